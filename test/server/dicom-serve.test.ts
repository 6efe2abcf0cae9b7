// `tumorscope serve` on a patient sent as DICOM series (the files of each sequence in fields `flair` and `pre`),
// with two tiny untrained models: the answer is the one for the same patient sent as NIfTI and the one `tumorscope
// predict` gives for the series folders (per-slice results, mask.nii.gz in the input's space, tumour volume in
// mm³), and so is the one for a .zip of each series folder; include=volume adds the input as NIfTI; bad series are
// refused over HTTP, naming the file.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { registerPredict } from '../../src/cli/commands/predict.ts';
import { setNumThreads } from '../../src/engine/index.ts';
import { type PredictResponse, predictResponseSchema } from '../../src/inference/prediction-schema.ts';
import type { VolumePredictSummary } from '../../src/pipeline/predict-volume.ts';
import { type RunningServer, startServer } from '../../src/server/server.ts';
import { parseNifti } from '../../src/volume/nifti.ts';
import type { Volume } from '../../src/volume/volume.ts';
import { runCommand } from '../helpers/run-command.ts';
import { saveTinyModels } from '../helpers/tiny-models.ts';
import {
  gridAffine,
  sample,
  testDicomSeries,
  testNiftiBytes,
  writeTestDicomSeries,
} from '../helpers/volumes.ts';
import { postFiles } from './client.ts';

setNumThreads(1);

const niftiOfUri = (uri: string, name: string) => parseNifti(Buffer.from(uri.split(',')[1]!, 'base64'), name);

function assertSameAffine(got: Volume['affine'], want: Volume['affine'], what: string): void {
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++)
      assert.ok(Math.abs(got[r]![c]! - want[r]![c]!) < 1e-4, `${what} [${r}][${c}]: ${got[r]} vs ${want[r]}`);
}

describe('serve with DICOM series', () => {
  // 24 × 20 × 6 voxels of 0.9 × 1.1 × 3 mm, stored as DICOM orders them (L, P, S); a bright blob off centre, so
  // that a slice cut the wrong way round would look different to the networks.
  const { affine, dims } = gridAffine({ size: [24, 20, 6], spacing: [0.9, 1.1, 3] }, ['L', 'P', 'S']);
  const blob = (x: number, y: number, z: number) =>
    Math.exp(-((x - 4) ** 2 + (y + 3) ** 2 + (z - 2) ** 2) / 20);
  const flair = sample(affine, dims, (x, y, z) => Math.round(200 + 900 * blob(x, y, z) + 4 * x + 2 * y));
  const pre = sample(affine, dims, (x, y, z) => Math.round(150 + 300 * blob(x, y, z) - 3 * y + z));
  const series = (field: string, values: ArrayLike<number>, folder = `P01/${field}`) =>
    testDicomSeries(affine, dims, values).map((f) => ({
      field,
      name: `${folder}/${f.name}`,
      bytes: f.bytes,
    }));

  let dir: string;
  let models: { classifier: string; segmenter: string };
  let server: RunningServer;
  let fromDicom: PredictResponse;

  /** `tumorscope predict` on the series folders written under `dir`; the output folder. */
  async function predictCli(out: string, extra: string[] = []): Promise<string> {
    const run = await runCommand(registerPredict, [
      'predict',
      '--flair',
      join(dir, 'P01', 'flair'),
      '--pre',
      join(dir, 'P01', 'pre'),
      '--classifier',
      models.classifier,
      '--segmenter',
      models.segmenter,
      '--threads',
      '1',
      '--out',
      out,
      ...extra,
    ]);
    if (run.error) throw run.error;
    return out;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-dicom-serve-'));
    writeTestDicomSeries(join(dir, 'P01', 'flair'), affine, dims, flair);
    writeTestDicomSeries(join(dir, 'P01', 'pre'), affine, dims, pre);
    models = saveTinyModels(join(dir, 'models'), 0);
    // The untrained segmenter's pixel probabilities on this patient, cut at their median: masks that follow the
    // input, neither empty nor full, whatever the random weights.
    const probe = await predictCli(join(dir, 'probe'), ['--save-probabilities']);
    const probabilities = parseNifti(readFileSync(join(probe, 'probabilities.nii.gz')), 'probabilities');
    const median = Array.from(probabilities.data).sort((a, b) => a - b)[probabilities.data.length >> 1]!;
    const segmenter = join(dir, 'models', 'segmenter-cut');
    const config = JSON.parse(readFileSync(`${models.segmenter}.json`, 'utf8'));
    const cut = { ...config, threshold: median, postprocess: { threshold: median } };
    writeFileSync(`${segmenter}.json`, JSON.stringify(cut));
    copyFileSync(`${models.segmenter}.safetensors`, `${segmenter}.safetensors`);
    models = { ...models, segmenter };
    server = await startServer({ port: 0, ...models, threads: 1, limits: { maxSlices: 8 } });
    const res = await postFiles(
      server.url,
      [...series('flair', flair), ...series('pre', pre)],
      '?include=volume',
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    fromDicom = predictResponseSchema.parse(res.body);
  });

  after(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers as for the same patient sent as NIfTI: per-slice results, mask in the input’s space, mm³', async () => {
    const nifti = (values: ArrayLike<number>) =>
      testNiftiBytes({ shape: dims, type: 'int16', values, affine });
    const res = await postFiles(server.url, [
      { field: 'flair', name: 'P01.nii.gz', bytes: nifti(flair) },
      { field: 'pre', name: 'pre.nii.gz', bytes: nifti(pre) },
    ]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const fromNifti = predictResponseSchema.parse(res.body);
    assert.equal(fromDicom.patients[0]!.patient, 'P01', 'named by the series’ folder');
    assert.deepEqual(fromDicom.slices, fromNifti.slices);
    assert.deepEqual(fromDicom.patients, fromNifti.patients);

    const volume = fromDicom.volume!;
    const mask = niftiOfUri(volume.mask, 'mask.nii.gz');
    const want = niftiOfUri(fromNifti.volume!.mask, 'mask.nii.gz');
    assert.deepEqual(mask.dims, dims);
    assertSameAffine(mask.affine, affine, 'mask affine');
    assertSameAffine(volume.affine, fromNifti.volume!.affine, 'answer affine');
    assert.deepEqual(mask.data, want.data);
    assert.equal(volume.orientation, 'LPS');
    // Masks that follow the input, not all or nothing: otherwise the comparison above proves little.
    assert.ok(
      volume.tumourVoxels > 0 && volume.tumourVoxels < dims[0] * dims[1] * dims[2],
      `${volume.tumourVoxels}`,
    );
    assert.equal(volume.tumourVoxels, fromNifti.volume!.tumourVoxels);
    assert.ok(Math.abs(volume.tumourVolumeMm3! - volume.tumourVoxels * 0.9 * 1.1 * 3) < 1e-6);
    assert.equal(fromNifti.volume!.image, undefined, 'the input volume only when asked for');
  });

  it('answers as `tumorscope predict` does for the series folders', async () => {
    const out = await predictCli(join(dir, 'cli-out'));
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as VolumePredictSummary;
    assert.equal(summary.slices.length, fromDicom.slices.length);
    summary.slices.forEach((cli, k) => {
      const served = fromDicom.slices[k]!;
      assert.deepEqual(
        [served.name, served.patient, served.slice, served.tumour, served.areaPixels, served.bbox],
        [cli.name, cli.patient, cli.slice, cli.tumour, cli.areaPixels, cli.bbox],
      );
      assert.ok(Math.abs(served.probability - cli.probability) < 1e-5, `${cli.name} probability`);
    });
    const mask = parseNifti(readFileSync(join(out, 'mask.nii.gz')), 'mask.nii.gz');
    const served = niftiOfUri(fromDicom.volume!.mask, 'mask.nii.gz');
    assert.deepEqual(served.data, mask.data);
    assert.deepEqual(served.affine, mask.affine);
    assert.equal(summary.volume.tumourVolumeMm3, fromDicom.volume!.tumourVolumeMm3);
  });

  it('adds the input it decoded as a 4-D NIfTI with include=volume: pre, FLAIR and post on the mask’s grid', () => {
    const image = niftiOfUri(fromDicom.volume!.image!, 'image.nii.gz');
    const mask = niftiOfUri(fromDicom.volume!.mask, 'mask.nii.gz');
    assert.deepEqual([...image.dims, image.channels], [...dims, 3]);
    assert.deepEqual(image.affine, mask.affine);
    // On the 0–255 scale, brightest where the series is brightest; post-contrast was not sent: FLAIR stands in.
    const voxels = dims[0] * dims[1] * dims[2];
    const channel = (c: number) => image.data.subarray(c * voxels, (c + 1) * voxels);
    const argmax = (values: ArrayLike<number>) =>
      Array.from(values).reduce((m, v, i, a) => (v > a[m]! ? i : m), 0);
    assert.equal(Math.max(...channel(1)), 255);
    assert.equal(argmax(channel(1)), argmax(flair));
    assert.equal(argmax(channel(0)), argmax(pre));
    assert.deepEqual(channel(2), channel(1));
  });

  it('answers the same for each series sent as a .zip of its folder', async () => {
    const zipOf = (field: string, values: ArrayLike<number>) => ({
      field,
      name: `${field}.zip`,
      bytes: zipSync(Object.fromEntries(series(field, values).map((f) => [f.name, f.bytes]))),
    });
    const res = await postFiles(server.url, [zipOf('flair', flair), zipOf('pre', pre)]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const fromZips = predictResponseSchema.parse(res.body);
    assert.deepEqual(fromZips.slices, fromDicom.slices);
    const { image: _, ...volume } = fromDicom.volume!;
    assert.deepEqual(fromZips.volume, volume);
  });

  it('refuses a bad series over HTTP with a message naming the file', async () => {
    const files = series('flair', flair);
    files[2] = {
      field: 'flair',
      name: 'P01/flair/readme.txt',
      bytes: new TextEncoder().encode('not an image'),
    };
    const text = await postFiles(server.url, files);
    assert.equal(text.status, 415);
    assert.match(
      (text.body as { error: string }).error,
      /^readme\.txt: not a NIfTI volume, DICOM file or \.zip of a series for field 'flair'/,
    );

    const packed = testDicomSeries(affine, dims, flair, { transferSyntax: '1.2.840.10008.1.2.4.90' });
    const compressed = series('flair', flair);
    compressed[3] = { ...compressed[3]!, bytes: packed[3]!.bytes };
    const jpeg = await postFiles(server.url, compressed);
    assert.equal(jpeg.status, 400);
    const name = compressed[3]!.name.split('/').pop()!;
    assert.match((jpeg.body as { error: string }).error, new RegExp(`^${name}: holds compressed pixel data`));

    // The server takes 8 slices a request here: a series of 9 files is refused before it is read.
    const { affine: tall, dims: tallDims } = gridAffine({ size: [4, 4, 9], spacing: [1, 1, 1] }, [
      'L',
      'P',
      'S',
    ]);
    const nine = testDicomSeries(tall, tallDims, new Array(144).fill(7)).map((f) => ({
      field: 'flair',
      name: `big/flair/${f.name}`,
      bytes: f.bytes,
    }));
    const big = await postFiles(server.url, nine);
    assert.equal(big.status, 413);
    assert.match((big.body as { error: string }).error, /^big\/flair \(field 'flair'\): more than 8 slices/);
  });
});
