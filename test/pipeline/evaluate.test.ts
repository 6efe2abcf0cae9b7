// `tumorscope evaluate` end to end on a tiny synthetic dataset with two briefly trained models: the files it
// writes, which slices it scores, its figures against the two models run independently here, the command
// line, and the errors for bad inputs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scanDataset } from '../../src/data/dataset-index.ts';
import type { PreprocessConfig } from '../../src/data/preprocess.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import { loadWeightsInto, readModelConfig } from '../../src/engine/index.ts';
import { curvesJsonSchema } from '../../src/eval/curves-json.ts';
import { metricsJsonSchema } from '../../src/eval/metrics-json.ts';
import { DISCLAIMER } from '../../src/eval/report/html.ts';
import { classifierScores, segmenterProbabilities } from '../../src/inference/network-outputs.ts';
import { DenseNet, type DenseNetConfig } from '../../src/models/densenet.ts';
import { ResUNet, type ResUNetConfig } from '../../src/models/resunet.ts';
import { SHIPPED_MODELS } from '../../src/pipeline/default-models.ts';
import { type EvaluateOptions, type EvaluateResult, evaluatePipeline } from '../../src/pipeline/evaluate.ts';
import { loadModel } from '../../src/pipeline/load-model.ts';
import { postprocessChain } from '../../src/pipeline/postprocess-steps.ts';
import { postprocessMask } from '../../src/postprocess/apply.ts';
import { NO_POSTPROCESS, parsePostprocessConfig } from '../../src/postprocess/config.ts';
import { repoRoot } from '../data/fixtures.ts';
import { hasTumour, PATIENTS, SLICES_PER_PATIENT, writeVisibleTumours } from '../helpers/visible-tumours.ts';
import {
  CLASSIFIER_SIZE,
  SEGMENTER_SIZE,
  TEST_PATIENTS,
  type TrainedModels,
  trainTinyModels,
} from './fixtures.ts';

const quiet = () => {};
const cli = join(repoRoot, 'bin', 'tumorscope.js');

interface Independent {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  falseNegativeSlices: number;
  falsePositiveSlices: number;
  /** Final predicted voxels per test patient, patients in sorted order. */
  predVoxels: number[];
  /** The segmenter alone: mean Dice over true tumour slices. */
  meanSliceDice: number;
}

/**
 * The test patients scored here without the evaluator: the models built by hand from their JSON, the slices
 * decoded at each model's size, then per patient volume: threshold, gate (rejected slices emptied), the saved
 * post-processing, and the counts in plain loops.
 */
async function runIndependently(
  data: string,
  classifierBase: string,
  segmenterBase: string,
): Promise<Independent> {
  const index = scanDataset(data);
  const test = { ...index, patients: index.patients.filter((p) => TEST_PATIENTS.includes(p.id)) };
  const small = await loadSlices(test, { width: CLASSIFIER_SIZE, height: CLASSIFIER_SIZE });
  const large = await loadSlices(test, { width: SEGMENTER_SIZE, height: SEGMENTER_SIZE });
  const c = readModelConfig<{ densenet: DenseNetConfig; threshold: number; preprocess: PreprocessConfig }>(
    classifierBase,
  );
  const s = readModelConfig<{ network: ResUNetConfig; preprocess: PreprocessConfig; postprocess: unknown }>(
    segmenterBase,
  );
  const post = parsePostprocessConfig(s.postprocess);
  const classifier = new DenseNet(c.densenet);
  loadWeightsInto(classifierBase, classifier);
  const segmenter = new ResUNet(s.network);
  loadWeightsInto(segmenterBase, segmenter);
  const all = Array.from({ length: small.count }, (_, i) => i);
  const scores = classifierScores(classifier, {
    cache: small,
    indices: all,
    preprocess: c.preprocess,
    batchSize: 8,
  });
  const probs = segmenterProbabilities(segmenter, {
    cache: large,
    indices: all,
    preprocess: s.preprocess,
    batchSize: 8,
    tta: post.tta,
  });
  const px = SEGMENTER_SIZE * SEGMENTER_SIZE;
  const out: Independent = {
    tp: 0,
    fp: 0,
    tn: 0,
    fn: 0,
    falseNegativeSlices: 0,
    falsePositiveSlices: 0,
    predVoxels: [],
    meanSliceDice: 0,
  };
  const dices: number[] = [];
  for (const patient of [...TEST_PATIENTS].sort()) {
    const slices = all.filter((i) => large.slices[i]!.patientId === patient);
    const d = slices.length;
    const raw = new Uint8Array(d * px);
    slices.forEach((i, k) => {
      for (let j = 0; j < px; j++) raw[k * px + j] = probs[i * px + j]! >= post.threshold ? 1 : 0;
    });
    const gated = raw.slice();
    slices.forEach((i, k) => {
      if (scores[i]! < c.threshold) gated.fill(0, k * px, (k + 1) * px);
    });
    const alone = postprocessMask(raw, d, SEGMENTER_SIZE, SEGMENTER_SIZE, post);
    const final = postprocessMask(gated, d, SEGMENTER_SIZE, SEGMENTER_SIZE, post);
    let predVoxels = 0;
    slices.forEach((i, k) => {
      const tumour = hasTumour(large.slices[i]!.sliceNumber);
      const called = scores[i]! >= c.threshold;
      const truth = large.masks!.subarray(i * px, (i + 1) * px);
      let finalVoxels = 0;
      let aloneVoxels = 0;
      let aloneHits = 0;
      let trueVoxels = 0;
      for (let j = 0; j < px; j++) {
        finalVoxels += final[k * px + j]!;
        aloneVoxels += alone[k * px + j]!;
        trueVoxels += truth[j] ? 1 : 0;
        aloneHits += truth[j] && alone[k * px + j] ? 1 : 0;
      }
      predVoxels += finalVoxels;
      if (tumour) {
        if (called) out.tp++;
        else out.fn++;
        if (finalVoxels === 0) out.falseNegativeSlices++;
        dices.push((2 * aloneHits) / (trueVoxels + aloneVoxels));
      } else {
        if (called) out.fp++;
        else out.tn++;
        if (finalVoxels > 0) out.falsePositiveSlices++;
      }
    });
    out.predVoxels.push(predVoxels);
  }
  out.meanSliceDice = dices.reduce((a, b) => a + b, 0) / dices.length;
  return out;
}

/** The evaluator's figures that runIndependently computes too. */
function comparable(m: EvaluateResult['metrics']): Independent {
  const { tp, fp, tn, fn } = m.classification.confusion;
  return {
    tp,
    fp,
    tn,
    fn,
    falseNegativeSlices: m.endToEnd.falseNegativeSlices,
    falsePositiveSlices: m.endToEnd.falsePositiveSlices,
    predVoxels: m.endToEnd.perPatient.map((p) => p.predVoxels),
    meanSliceDice: m.segmentation.meanSliceDice ?? Number.NaN,
  };
}

/** Equal counts, and Dice equal to rounding. */
function assertAgrees(actual: Independent, expected: Independent): void {
  assert.ok(
    Math.abs(actual.meanSliceDice - expected.meanSliceDice) < 1e-9,
    `segmenter Dice ${actual.meanSliceDice} vs ${expected.meanSliceDice}`,
  );
  assert.deepEqual({ ...actual, meanSliceDice: 0 }, { ...expected, meanSliceDice: 0 });
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('tumorscope evaluate', () => {
  let dir: string;
  let data: string;
  let models: TrainedModels;
  let out: string;
  let result: EvaluateResult;
  let options: EvaluateOptions;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-evaluate-'));
    data = writeVisibleTumours(join(dir, 'kaggle_3m'));
    models = await trainTinyModels(data, join(dir, 'runs'));
    out = join(dir, 'evaluation');
    // The model paths in both accepted spellings: with an extension and without.
    options = {
      data,
      split: models.split,
      classifier: `${models.classifier}.safetensors`,
      segmenter: `${models.segmenter}.json`,
      out,
      batch: 8,
      galleryCount: 2,
      log: quiet,
    };
    result = await evaluatePipeline(options);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a valid metrics.json and curves.json, the figures and a self-contained report.html', () => {
    const metrics = metricsJsonSchema.parse(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')));
    curvesJsonSchema.parse(JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8')));
    assert.deepEqual(metrics, result.metrics);
    for (const figure of [
      'roc',
      'precision-recall',
      'confusion-matrix',
      'patient-dice',
      'training-classifier',
    ]) {
      assert.ok(existsSync(join(out, 'figures', `${figure}.svg`)), figure);
    }
    // Both training logs were found beside the models.
    assert.ok(existsSync(join(out, 'figures', 'training-segmenter.png')));
    const html = readFileSync(result.reportPath, 'utf8');
    assert.ok(html.includes(DISCLAIMER));
    assert.match(html, /data:image\/png;base64,/, 'gallery images are inline');
    assert.equal(html.match(/class="gallery-item best"/g)?.length, 2);
    assert.equal(html.match(/class="gallery-item worst"/g)?.length, 2);
    assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    assert.doesNotMatch(html, /url\(\s*["']?(?:https?:)?\/\//i);
    assert.doesNotMatch(html, /<script|<link|@import/i);
    assert.equal(result.files.at(-1), 'report.html');
  });

  it('scores exactly the test patients, comparing masks at the segmenter size', () => {
    const m = result.metrics;
    assert.deepEqual(
      m.endToEnd.perPatient.map((p) => p.id),
      [...TEST_PATIENTS].sort(),
    );
    assert.deepEqual(m.data, {
      patients: TEST_PATIENTS.length,
      slices: TEST_PATIENTS.length * SLICES_PER_PATIENT,
      tumourSlices: TEST_PATIENTS.length * (SLICES_PER_PATIENT / 2),
    });
    // Four 8×8 tumours at 32 px become four 12×12 ones at the segmenter's 48 px (256 each at 32 px).
    const scale = SEGMENTER_SIZE / 32;
    for (const p of m.endToEnd.perPatient) assert.equal(p.trueVoxels, 4 * (8 * scale) ** 2, p.id);
    assert.equal(m.segmentation.slices, m.data.tumourSlices);
    assert.match(result.scope, /the test split of .*split\.json: 2 patients, 16 slices/);
  });

  it('agrees with the two models run independently, with the saved post-processing', async () => {
    const m = result.metrics;
    const actual = comparable(m);
    assertAgrees(actual, await runIndependently(data, models.classifier, models.segmenter));
    assert.equal(actual.tp + actual.fp + actual.tn + actual.fn, m.data.slices);
    // A tumour slice the classifier missed is always an end-to-end false negative.
    assert.ok(m.endToEnd.falseNegativeSlices >= actual.fn);
    assert.equal(
      m.classification.threshold,
      readModelConfig<{ threshold: number }>(models.classifier).threshold,
    );
  });

  it('applies every post-processing step the segmenter saved, gating before the volume steps', async () => {
    // The same weights with every step on and a low threshold, so that each step has something to do.
    const variant = join(dir, 'variant', 'best');
    mkdirSync(join(dir, 'variant'), { recursive: true });
    copyFileSync(`${models.segmenter}.safetensors`, `${variant}.safetensors`);
    const config = JSON.parse(readFileSync(`${models.segmenter}.json`, 'utf8'));
    const postprocess = { threshold: 0.3, minComponentArea: 16, largest3DComponent: true, tta: 'flips' };
    writeFileSync(`${variant}.json`, JSON.stringify({ ...config, threshold: 0.3, postprocess }));
    const evaluated = await evaluatePipeline({
      ...options,
      segmenter: variant,
      out: join(dir, 'variant-eval'),
    });
    assertAgrees(comparable(evaluated.metrics), await runIndependently(data, models.classifier, variant));
  });

  it('records the models, the commit, the split seed and the timings', () => {
    const m = result.metrics;
    assert.equal(m.models.classifier.name, 'densenet121');
    assert.equal(m.models.segmenter.name, 'resunet');
    for (const [info, base] of [
      [m.models.classifier, models.classifier],
      [m.models.segmenter, models.segmenter],
    ] as const) {
      assert.deepEqual(
        info.files.map((f) => f.sha256),
        [sha256(`${base}.safetensors`), sha256(`${base}.json`)],
      );
    }
    assert.ok(m.commit === 'unknown' || /^[0-9a-f]{40}$/.test(m.commit ?? ''), `commit ${m.commit}`);
    assert.equal(m.seed, 7);
    assert.deepEqual(Object.keys(m.timings).sort(), [
      'classify',
      'decode',
      'gallery',
      'load models',
      'segment',
    ]);
  });

  it('without a split, evaluates every slice of --data', async () => {
    const all = await evaluatePipeline({
      ...options,
      split: undefined,
      out: join(dir, 'all'),
      galleryCount: 0,
    });
    assert.equal(all.metrics.data.slices, PATIENTS.length * SLICES_PER_PATIENT);
    assert.equal(all.metrics.endToEnd.perPatient.length, PATIENTS.length);
    assert.equal(all.metrics.seed, null);
    assert.match(all.scope, /no --split given/);
    assert.doesNotMatch(
      readFileSync(all.reportPath, 'utf8'),
      /class="gallery-item/,
      '--gallery 0 shows none',
    );
  });

  it('shows the training curves of models shipped under their own names in one folder', async () => {
    // models/ holds classifier.* and segmenter.* side by side, each log as <name>.log.jsonl; here only the
    // classifier ships one, and the segmenter must not borrow it.
    const shipped = join(dir, 'shipped');
    mkdirSync(shipped, { recursive: true });
    for (const [kind, base] of [
      ['classifier', models.classifier],
      ['segmenter', models.segmenter],
    ] as const)
      for (const ext of ['safetensors', 'json'])
        copyFileSync(`${base}.${ext}`, join(shipped, `${kind}.${ext}`));
    copyFileSync(join(models.classifier, '..', 'log.jsonl'), join(shipped, 'classifier.log.jsonl'));
    const evaluation = await evaluatePipeline({
      ...options,
      classifier: join(shipped, 'classifier'),
      segmenter: join(shipped, 'segmenter'),
      out: join(dir, 'shipped-evaluation'),
      galleryCount: 0,
    });
    const html = readFileSync(evaluation.reportPath, 'utf8');
    assert.match(html, /id="figure-training-classifier"/);
    assert.doesNotMatch(html, /id="figure-training-segmenter"/);
    assert.ok(html.includes('No segmenter training log.'));
  });

  it('the command writes the same figures and prints a summary', () => {
    const cliOut = join(dir, 'cli');
    const stdout = execFileSync(
      process.execPath,
      [
        cli,
        'evaluate',
        '--data',
        data,
        '--split',
        models.split,
        '--classifier',
        models.classifier,
        '--segmenter',
        models.segmenter,
        '--out',
        cliOut,
        '--threads',
        '1',
        '--batch',
        '8',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const written = JSON.parse(readFileSync(join(cliOut, 'metrics.json'), 'utf8'));
    const { timings: _a, ...fromCli } = written;
    const { timings: _b, ...fromFunction } = result.metrics;
    assert.deepEqual(fromCli, fromFunction);
    assert.match(stdout, /accuracy \d\.\d{3}, AUC (\d\.\d{3}|n\/a)/);
    assert.match(stdout, /Dice per patient volume mean \d\.\d{3}, median \d\.\d{3}/);
    assert.ok(stdout.includes(join(cliOut, 'report.html')));
    assert.match(stdout, /not a medical device/);
    assert.match(stdout, /two stages \(patients\) 2\/2/, 'progress lines');
  });

  it('refuses bad models and splits with an error naming the file', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad, { recursive: true });
    const refuses = (overrides: Partial<EvaluateOptions>, pattern: RegExp) =>
      assert.rejects(evaluatePipeline({ ...options, ...overrides, out: join(bad, 'out') }), pattern);
    const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

    const missing = join(bad, 'nothing', 'best');
    await refuses(
      { classifier: missing },
      new RegExp(`${escapeRegExp(missing)}\\.json: model config not found`),
    );
    await refuses(
      { segmenter: models.classifier },
      new RegExp(
        `${escapeRegExp(models.classifier)}\\.json: this is a classifier model, but a segmenter was expected`,
      ),
    );
    await refuses(
      { classifier: models.segmenter },
      /best\.json: this is a segmenter model, but a classifier/,
    );

    // A config without its weights.
    const lonely = join(bad, 'lonely');
    copyFileSync(`${models.segmenter}.json`, `${lonely}.json`);
    await refuses(
      { segmenter: lonely },
      new RegExp(`${escapeRegExp(lonely)}\\.safetensors: model weights not found`),
    );

    // An architecture this version cannot build.
    const odd = join(bad, 'odd');
    const config = JSON.parse(readFileSync(`${models.segmenter}.json`, 'utf8'));
    writeFileSync(`${odd}.json`, JSON.stringify({ ...config, architecture: 'segformer' }));
    copyFileSync(`${models.segmenter}.safetensors`, `${odd}.safetensors`);
    await refuses({ segmenter: odd }, new RegExp(`${escapeRegExp(odd)}\\.json: .*architecture`));

    // Weights that do not fit the config: strict loading names the weights file.
    writeFileSync(`${odd}.json`, JSON.stringify({ ...config, network: { ...config.network, features: 16 } }));
    await refuses({ segmenter: odd }, new RegExp(`${escapeRegExp(odd)}\\.safetensors: `));

    // Post-processing this version does not know.
    writeFileSync(
      `${odd}.json`,
      JSON.stringify({ ...config, postprocess: { threshold: 0.5, tta: 'rotate' } }),
    );
    await refuses(
      { segmenter: odd },
      new RegExp(`${escapeRegExp(odd)}\\.json: invalid post-processing config`),
    );

    // Without --segmenter the shipped one is evaluated, as predict uses it (loaded before the data is read).
    const lines: string[] = [];
    const nowhere = join(bad, 'no-data');
    await assert.rejects(
      evaluatePipeline({
        ...options,
        segmenter: undefined,
        data: nowhere,
        out: join(bad, 'out'),
        log: (line) => lines.push(line),
      }),
      new RegExp(escapeRegExp(nowhere)),
    );
    assert.ok(lines[0]?.includes(`segmenter ${SHIPPED_MODELS.segmenter} `), lines[0]);

    const foreign = join(bad, 'foreign.json');
    const split = JSON.parse(readFileSync(models.split, 'utf8'));
    split.splits.test.patients = ['TCGA_ZZ_9999_20000101'];
    split.splits.test.institutions = { ZZ: 1 };
    writeFileSync(foreign, JSON.stringify(split));
    await refuses({ split: foreign }, new RegExp(`${escapeRegExp(foreign)}: 1 test patient\\(s\\) not in`));
  });

  it('loadModel builds either kind from its base path, in eval mode', () => {
    const classifier = loadModel(`${models.classifier}.json`);
    assert.equal(classifier.kind, 'classifier');
    assert.ok(classifier.model instanceof DenseNet);
    assert.equal(
      classifier.model.training,
      false,
      'ready for inference: dropout and batch norm in eval mode',
    );
    assert.equal(classifier.base, models.classifier);
    const segmenter = loadModel(models.segmenter);
    assert.equal(segmenter.kind, 'segmenter');
    assert.ok(segmenter.model instanceof ResUNet);
    assert.equal(segmenter.preprocess.width, SEGMENTER_SIZE);
  });

  it('the command reports a bad model in one line', () => {
    assert.throws(
      () =>
        execFileSync(
          process.execPath,
          [
            cli,
            'evaluate',
            '--data',
            data,
            '--classifier',
            models.classifier,
            '--segmenter',
            models.classifier,
            '--out',
            join(dir, 'never'),
          ],
          { stdio: 'pipe' },
        ),
      (e: { status: number; stderr: Buffer }) => {
        const stderr = e.stderr.toString().trim();
        assert.equal(e.status, 1);
        assert.equal(stderr.split('\n').length, 1, stderr);
        assert.ok(stderr.includes(`${models.classifier}.json`), stderr);
        return true;
      },
    );
  });
  it('scores each saved post-processing step in turn, ending at the evaluated segmenter', async () => {
    const stepsOut = join(dir, 'evaluation-steps');
    const withSteps = await evaluatePipeline({ ...options, out: stepsOut, postprocessSteps: true });
    const steps = withSteps.steps!;
    const saved = parsePostprocessConfig(
      readModelConfig<{ postprocess: unknown }>(models.segmenter).postprocess,
    );
    assert.deepEqual(
      steps.map((s) => s.config),
      postprocessChain(saved).map((c) => c.config),
    );
    assert.deepEqual(steps[0]!.config, NO_POSTPROCESS);
    assert.deepEqual(steps.at(-1)!.config, saved);
    // The last row is the segmenter alone as evaluate scores it.
    const last = steps.at(-1)!;
    assert.ok(Math.abs(last.meanSliceDice - result.metrics.segmentation.meanSliceDice!) < 1e-9);
    const written = JSON.parse(readFileSync(join(stepsOut, 'postprocess-steps.json'), 'utf8'));
    assert.equal(written.steps.length, steps.length);
    assert.deepEqual(withSteps.metrics.endToEnd, result.metrics.endToEnd);
  });
});
