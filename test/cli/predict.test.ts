// `tumorscope predict` on small folders with two tiny untrained models whose saved thresholds fix the outcome
// (classifier threshold 0: every slice positive; segmenter threshold 0: every pixel tumour), so that the files
// written can be checked exactly: summary.json, the PNGs at each input's size, what is left alone in --out,
// and one clear error for bad input.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs, {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import sharp from 'sharp';
import { patientTable, registerPredict, volumeStepLines } from '../../src/cli/commands/predict.ts';
import { TooManySlicesError } from '../../src/data/errors.ts';
import { MAX_SLICES_PER_PATIENT } from '../../src/data/slice-names.ts';
import { FileWriteError, setNumThreads } from '../../src/engine/index.ts';
import type { PredictSummary } from '../../src/pipeline/predict-summary.ts';
import { boxMask, encodeTiff, pattern, repoRoot, writePng, writeTiff } from '../data/fixtures.ts';
import { runCommand } from '../helpers/run-command.ts';
import { saveTinyModels } from '../helpers/tiny-models.ts';

setNumThreads(1);
const cli = join(repoRoot, 'bin', 'tumorscope.js');
const NOTICE = 'Research tool, not a medical device.';

/** Runs the command in this process and returns what it printed; what it warned goes to `warnings`. */
async function predict(args: string[], warnings: string[] = []): Promise<string> {
  const run = await runCommand(registerPredict, ['predict', ...args, '--threads', '1']);
  warnings.push(...run.stderr);
  if (run.error) throw run.error;
  return run.stdout.join('\n');
}

/** Every file under `dir`, relative to it, hidden ones included. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

async function pngInfo(path: string) {
  const { width, height, channels } = await sharp(path).metadata();
  return [width, height, channels];
}

describe('tumorscope predict', () => {
  let dir: string;
  let data: string;
  let everything: { classifier: string; segmenter: string };
  let nothing: { classifier: string; segmenter: string };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-predict-cli-'));
    everything = saveTinyModels(join(dir, 'models'), 0);
    nothing = saveTinyModels(join(dir, 'models'), 1);
    // A kaggle_3m tree: one patient of 3 slices 20×20 with masks beside them, one of 2 slices 30×18 without.
    data = join(dir, 'kaggle_3m');
    for (let n = 1; n <= 3; n++) {
      const base = join(data, 'TCGA_AA_0001_20000101', `TCGA_AA_0001_20000101_${n}`);
      writeTiff(`${base}.tif`, { width: 20, height: 20, channels: 3, samples: pattern(20 * 20 * 3, n) });
      writeTiff(`${base}_mask.tif`, {
        width: 20,
        height: 20,
        channels: 1,
        samples: boxMask(20, 20, [2, 2, 8, 8]),
      });
    }
    for (let n = 1; n <= 2; n++) {
      const base = join(data, 'TCGA_BB_0002_20000101', `TCGA_BB_0002_20000101_${n}`);
      writeTiff(`${base}.tif`, { width: 30, height: 18, channels: 1, samples: pattern(30 * 18, n) });
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes summary.json and a mask and an overlay at input size per positive slice, deleting nothing', async () => {
    const out = join(dir, 'out-tree');
    mkdirSync(join(out, 'TCGA_AA_0001_20000101'), { recursive: true });
    writeFileSync(join(out, 'notes.txt'), 'mine');
    writeFileSync(join(out, 'TCGA_AA_0001_20000101', 'old.png'), 'old');
    const printed = await predict([
      data,
      '--out',
      out,
      '--classifier',
      everything.classifier,
      '--segmenter',
      `${everything.segmenter}.json`,
    ]);
    assert.ok(printed.includes(NOTICE));
    assert.match(printed, /patient\s+slices\s+tumour\s+classifier called\s+slice range\s+volume \(voxels\)/);
    assert.match(printed, /TCGA_AA_0001_20000101\s+3\s+3\s+3\s+1–3\s+1200/);
    assert.match(printed, /TCGA_BB_0002_20000101\s+2\s+2\s+2\s+1–2\s+1080/);
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
    assert.ok(existsSync(join(out, 'TCGA_AA_0001_20000101', 'old.png')));

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as PredictSummary;
    assert.equal(summary.notice, NOTICE);
    assert.equal(summary.models.classifier.files.weights, `${everything.classifier}.safetensors`);
    assert.equal(summary.models.classifier.threshold, 0);
    assert.equal(summary.models.segmenter.files.config, `${everything.segmenter}.json`);
    assert.deepEqual(summary.models.segmenter.postprocess, {
      threshold: 0,
      minComponentArea: 0,
      largest3DComponent: false,
      tta: 'none',
    });
    // Masks beside the slices are not predicted on.
    assert.deepEqual(
      summary.slices.map((s) => [s.patient, s.slice, s.width, s.height, s.tumour, s.areaPixels]),
      [
        ['TCGA_AA_0001_20000101', 1, 20, 20, true, 400],
        ['TCGA_AA_0001_20000101', 2, 20, 20, true, 400],
        ['TCGA_AA_0001_20000101', 3, 20, 20, true, 400],
        ['TCGA_BB_0002_20000101', 1, 30, 18, true, 540],
        ['TCGA_BB_0002_20000101', 2, 30, 18, true, 540],
      ],
    );
    for (const s of summary.slices) {
      assert.deepEqual(s.bbox, { x: 0, y: 0, width: s.width, height: s.height });
      assert.equal(s.mask, join(s.patient, `${s.patient}_${s.slice}_mask.png`));
      assert.equal(s.overlay, join(s.patient, `${s.patient}_${s.slice}_overlay.png`));
      assert.deepEqual(await pngInfo(join(out, s.mask!)), [s.width, s.height, 1]);
      assert.deepEqual(await pngInfo(join(out, s.overlay!)), [s.width, s.height, 3]);
    }
    assert.deepEqual(
      summary.patients.map((p) => [
        p.patient,
        p.slices,
        p.positiveSlices,
        p.firstPositiveSlice,
        p.lastPositiveSlice,
        p.volumeVoxels,
      ]),
      [
        ['TCGA_AA_0001_20000101', 3, 3, 1, 3, 1200],
        ['TCGA_BB_0002_20000101', 2, 2, 1, 2, 1080],
      ],
    );
  });

  it('takes one slice file, and writes no picture for slices the classifier rejects', async () => {
    const slice = await writePng(join(dir, 'single', 'brain.png'), 40, 30, 3, pattern(40 * 30 * 3));
    const out = join(dir, 'out-single');
    await predict([
      slice,
      '--out',
      out,
      ...['--classifier', everything.classifier, '--segmenter', everything.segmenter],
    ]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as PredictSummary;
    assert.equal(summary.slices.length, 1);
    assert.deepEqual(await pngInfo(join(out, summary.slices[0]!.mask!)), [40, 30, 1]);

    const rejected = join(dir, 'out-rejected');
    const printed = await predict([
      data,
      '--out',
      rejected,
      '--classifier',
      nothing.classifier,
      '--segmenter',
      nothing.segmenter,
    ]);
    const none = JSON.parse(readFileSync(join(rejected, 'summary.json'), 'utf8')) as PredictSummary;
    assert.ok(
      none.slices.every((s) => !s.tumour && s.mask === null && s.overlay === null && s.areaPixels === 0),
    );
    assert.ok(!existsSync(join(rejected, 'TCGA_AA_0001_20000101')));
    assert.match(printed, /TCGA_BB_0002_20000101\s+2\s+0\s+0\s+-\s+0/);
  });

  it('refuses a mask file and a missing model, naming the file', async () => {
    const mask = join(data, 'TCGA_AA_0001_20000101', 'TCGA_AA_0001_20000101_1_mask.tif');
    const models = ['--classifier', everything.classifier, '--segmenter', everything.segmenter];
    await assert.rejects(predict([mask, '--out', join(dir, 'out-mask'), ...models]), (err: Error) =>
      err.message.startsWith(`${mask}: this is a mask`),
    );
    await assert.rejects(
      predict([
        data,
        '--out',
        join(dir, 'out-missing'),
        '--classifier',
        join(dir, 'none'),
        '--segmenter',
        everything.segmenter,
      ]),
      new RegExp(`${join(dir, 'none')}\\.json: model config not found`),
    );
  });

  it('exits with one line naming a corrupt slice', () => {
    const folder = join(dir, 'corrupt', 'TCGA_CC_0003_20000101');
    mkdirSync(folder, { recursive: true });
    writeTiff(join(folder, 'TCGA_CC_0003_20000101_1.tif'), {
      width: 8,
      height: 8,
      channels: 3,
      samples: pattern(192),
    });
    const bad = join(folder, 'TCGA_CC_0003_20000101_2.tif');
    writeFileSync(bad, Buffer.from('II*\0garbage'));
    const args = [cli, 'predict', folder, '--out', join(dir, 'out-corrupt'), '--threads', '1'];
    const models = ['--classifier', everything.classifier, '--segmenter', everything.segmenter];
    try {
      execFileSync(process.execPath, [...args, ...models], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      assert.fail('predict should have failed');
    } catch (err) {
      const { status, stdout, stderr } = err as { status: number; stdout: string; stderr: string };
      assert.equal(status, 1);
      assert.ok(stdout.includes(NOTICE));
      assert.match(stderr.trim(), new RegExp(`^tumorscope: ${bad}: `));
      assert.equal(stderr.trim().split('\n').length, 1);
    }
    assert.ok(!existsSync(join(dir, 'out-corrupt', 'summary.json')));
  });

  it('refuses a patient folder of more slices than one patient may have before decoding any, writing nothing', async () => {
    const folder = join(dir, 'tall', 'scan');
    mkdirSync(folder, { recursive: true });
    const pixel = Buffer.from(encodeTiff({ width: 1, height: 1, channels: 1, samples: new Uint8Array([9]) }));
    for (let n = 1; n <= MAX_SLICES_PER_PATIENT + 1; n++) writeFileSync(join(folder, `s${n}.tif`), pixel);
    writeFileSync(join(folder, 's1.tif'), 'not a slice: never read, the count comes first');
    const out = join(dir, 'out-tall');
    const models = ['--classifier', everything.classifier, '--segmenter', everything.segmenter];
    await assert.rejects(
      predict([folder, '--out', out, ...models]),
      (err: Error) =>
        err instanceof TooManySlicesError &&
        err.message === `${folder}: patient scan has 257 slices, more than the 256 one patient may have`,
    );
    assert.ok(!existsSync(join(out, 'summary.json')));
  });

  describe('three patients, the third with a corrupt slice', () => {
    let three: string;
    let bad: string;
    const models = () => ['--classifier', everything.classifier, '--segmenter', everything.segmenter];
    before(() => {
      three = join(dir, 'three');
      for (const id of ['TCGA_AA_0001_20000101', 'TCGA_BB_0002_20000101', 'TCGA_CC_0003_20000101']) {
        for (let n = 1; n <= 2; n++) {
          writeTiff(join(three, id, `${id}_${n}.tif`), {
            width: 12,
            height: 12,
            channels: 3,
            samples: pattern(12 * 12 * 3, n),
          });
        }
      }
      bad = join(three, 'TCGA_CC_0003_20000101', 'TCGA_CC_0003_20000101_3.tif');
      writeFileSync(bad, Buffer.from('II*\0garbage'));
    });

    it('writes nothing at all: no PNGs of the first two patients, no summary, nothing staged left', async () => {
      const out = join(dir, 'out-three');
      mkdirSync(out);
      writeFileSync(join(out, 'notes.txt'), 'mine');
      await assert.rejects(predict([three, '--out', out, ...models()]), (err: Error) =>
        err.message.startsWith(`${bad}: `),
      );
      assert.deepEqual(filesUnder(out), ['notes.txt']);
      // An output folder that did not exist is not left behind either.
      const fresh = join(dir, 'out-three-fresh');
      await assert.rejects(predict([three, '--out', fresh, ...models()]));
      assert.ok(!existsSync(fresh));
    });

    it('with --skip-bad-files warns once about the bad file and predicts on every other slice', async () => {
      const out = join(dir, 'out-three-skip');
      const warnings: string[] = [];
      const printed = await predict([three, '--out', out, '--skip-bad-files', ...models()], warnings);
      assert.match(printed, /TCGA_CC_0003_20000101\s+2\s+2/);
      assert.equal(warnings.filter((w) => w.startsWith('warning: ')).length, 1);
      assert.ok(warnings[0]!.startsWith(`warning: skipping: ${bad}: `), warnings[0]);
      assert.ok(warnings.includes('skipped 1 bad files (see warnings above)'));
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as PredictSummary;
      assert.equal(summary.slices.length, 6);
      assert.deepEqual(
        summary.skipped.map((p) => [p.file, p.code]),
        [[bad, 'unreadable-image']],
      );
      assert.equal(filesUnder(out).length, 1 + 6 * 2);
    });

    it('names the output file a full disk (ENOSPC) stopped, and leaves nothing half-written', async (t) => {
      const out = join(dir, 'out-full');
      // Every write finds the disk full: the first file predict writes is the first patient's first mask.
      t.mock.method(fs, 'writeSync', () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      });
      syncBuiltinESMExports();
      t.after(() => {
        mock.restoreAll();
        syncBuiltinESMExports();
      });
      await assert.rejects(
        predict([three, '--out', out, '--skip-bad-files', ...models()]),
        (err: Error) =>
          err instanceof FileWriteError &&
          err.code === 'ENOSPC' &&
          err.message ===
            `${join(out, 'TCGA_AA_0001_20000101', 'TCGA_AA_0001_20000101_1_mask.png')}: cannot write it (ENOSPC: no space left on device, write)`,
      );
      assert.deepEqual(filesUnder(out), []);
    });
  });

  it("tabulates patients with a dash for no positive slice, the classifier's own calls beside the final ones", () => {
    const patients = [
      {
        patient: 'a',
        slices: 10,
        positiveSlices: 0,
        classifierCalledSlices: 1,
        firstPositiveSlice: null,
        lastPositiveSlice: null,
        volumeVoxels: 0,
        volumeSteps: ['largest 3-D component on this one slice alone'],
      },
      {
        patient: 'long-name',
        slices: 3,
        positiveSlices: 2,
        classifierCalledSlices: 3,
        firstPositiveSlice: 4,
        lastPositiveSlice: 9,
        volumeVoxels: 123,
        volumeSteps: [],
      },
    ];
    const table = patientTable(patients);
    assert.equal(table.length, 3);
    assert.match(table[0]!, /^patient\s+slices\s+tumour\s+classifier called\s+slice range\s+volume/);
    assert.ok(table.every((row) => row.length === table[0]!.length));
    assert.match(table[1]!, /^a\s+10\s+0\s+1\s+-\s+0$/);
    assert.match(table[2]!, /^long-name\s+3\s+2\s+3\s+4–9\s+123$/);
    assert.deepEqual(volumeStepLines(patients), [
      'volume step (a): largest 3-D component on this one slice alone',
    ]);
  });
});
