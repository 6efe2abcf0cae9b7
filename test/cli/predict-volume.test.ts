// `tumorscope predict` on volumes with two tiny untrained models whose thresholds mark every pixel of every
// slice, so that the files can be checked exactly: a 4-D NIfTI given as is, the sequences apart (DICOM series and
// NIfTI, a sequence left out), a volume without spacing, and the refusals, which come before any model loads.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerPredict } from '../../src/cli/commands/predict.ts';
import { setNumThreads } from '../../src/engine/index.ts';
import type { VolumePredictSummary } from '../../src/pipeline/predict-volume.ts';
import { parseNifti } from '../../src/volume/nifti.ts';
import { runCommand } from '../helpers/run-command.ts';
import { saveTinyModels } from '../helpers/tiny-models.ts';
import { gridAffine, sample, testNiftiBytes, writeTestDicomSeries } from '../helpers/volumes.ts';

setNumThreads(1);

describe('tumorscope predict on volumes', () => {
  let dir: string;
  let models: string[];
  // 12 × 10 × 4 voxels of 1 × 1.2 × 3 mm, stored as DICOM orders them (L, P, S).
  const { affine, dims } = gridAffine({ size: [12, 10, 4], spacing: [1, 1.2, 3] }, ['L', 'P', 'S']);
  const brain = sample(affine, dims, (x, y, z) => Math.round(500 + 20 * x - 7 * y + z));

  const predict = async (args: string[]) => {
    const run = await runCommand(registerPredict, ['predict', ...args, ...models, '--threads', '1']);
    if (run.error) throw run.error;
    return { out: run.stdout.join('\n'), err: run.stderr.join('\n') };
  };
  const summaryOf = (out: string) =>
    JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as VolumePredictSummary;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-predict-volume-'));
    const paths = saveTinyModels(join(dir, 'models'), 0);
    models = ['--classifier', paths.classifier, '--segmenter', paths.segmenter];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a 4-D volume as it is and writes mask.nii.gz in its space, with the tumour volume in mm³', async () => {
    const values = new Float32Array(brain.length * 3);
    for (let c = 0; c < 3; c++) values.set(brain, c * brain.length);
    const volume = join(dir, 'patient.nii.gz');
    writeFileSync(volume, testNiftiBytes({ shape: [...dims, 3], type: 'int16', values, affine }));
    const out = join(dir, 'out-4d');
    const { out: printed } = await predict([volume, '--out', out, '--save-probabilities']);
    const mask = parseNifti(readFileSync(join(out, 'mask.nii.gz')), 'mask');
    assert.deepEqual(mask.dims, dims);
    assert.deepEqual(mask.affine, parseNifti(readFileSync(volume), volume).affine);
    assert.ok(
      mask.data.every((v) => v === 1),
      'every voxel marked by the threshold-0 models',
    );
    const summary = summaryOf(out);
    assert.equal(summary.volume.tumourVoxels, 12 * 10 * 4);
    assert.ok(Math.abs(summary.volume.tumourVolumeMm3! - 480 * 3.6) < 1e-3);
    assert.equal(summary.volume.orientation, 'LPS');
    assert.equal(summary.patients[0]!.patient, 'patient');
    assert.equal(summary.slices.length, 4);
    assert.ok(existsSync(join(out, 'probabilities.nii.gz')));
    assert.match(printed, /tumour volume 1\.73 cm³ \(480 voxels\)/);
  });

  it('takes the sequences apart, as DICOM series or NIfTI, FLAIR standing in for a missing one', async () => {
    writeTestDicomSeries(join(dir, 'flair'), affine, dims, brain);
    writeFileSync(
      join(dir, 'post.nii'),
      testNiftiBytes({ shape: dims, type: 'float32', values: brain, affine }),
    );
    const out = join(dir, 'out-sequences');
    const { err } = await predict([
      '--flair',
      join(dir, 'flair'),
      '--post',
      join(dir, 'post.nii'),
      '--out',
      out,
    ]);
    const summary = summaryOf(out);
    assert.deepEqual(summary.volume.sources, { flair: join(dir, 'flair'), post: join(dir, 'post.nii') });
    assert.match(err, /no pre-contrast sequence: FLAIR stands in/);
    assert.deepEqual(parseNifti(readFileSync(join(out, 'mask.nii.gz')), 'mask').dims, dims);
  });

  it('gives the tumour volume in voxels when the volume has no spacing', async () => {
    const volume = join(dir, 'bare.nii');
    const values = new Float32Array(brain.length * 3).fill(7);
    writeFileSync(volume, testNiftiBytes({ shape: [...dims, 3], type: 'uint8', values, pixdim: [0, 0, 0] }));
    const out = join(dir, 'out-bare');
    const { out: printed } = await predict([volume, '--out', out]);
    assert.equal(summaryOf(out).volume.tumourVolumeMm3, null);
    assert.match(printed, /tumour volume 480 voxels/);
  });

  it('refuses a 3-D volume of one sequence, a missing file and mixed inputs before loading any model', async () => {
    const single = join(dir, 'flair.nii.gz');
    writeFileSync(single, testNiftiBytes({ shape: dims, type: 'int16', values: brain, affine }));
    await assert.rejects(predict([single, '--out', join(dir, 'o1')]), (e: Error) =>
      e.message.startsWith(`${single}: is a 3-D volume of one sequence`),
    );
    const missing = join(dir, 'nowhere.nii.gz');
    const bad = ['--classifier', join(dir, 'no-model')];
    const run = await runCommand(registerPredict, ['predict', missing, '--out', join(dir, 'o2'), ...bad]);
    assert.match(String(run.error), new RegExp(`${missing}: does not exist`), 'the input is checked first');
    await assert.rejects(predict([single, '--flair', single, '--out', join(dir, 'o3')]), /either <input> or/);
    await assert.rejects(predict(['--pre', single, '--out', join(dir, 'o4')]), /--flair is required/);
  });
});
