// The round trip of volumes through prediction: the example slices stacked into a 4-D NIfTI as nibabel stores a
// volume (voxel i towards the patient's right, j towards anterior: the opposite of the TIFFs' columns and rows),
// with a known affine → predictVolume with the shipped models → mask.nii.gz and probabilities.nii.gz have the
// input's affine and dimensions, and their voxels are the slice-wise prediction's masks and probabilities on the
// TIFFs themselves, put where those pixels came from. That the slices the network sees are the TIFFs' own bytes
// is checked first: the orientation as the dataset shows it, cross-checked on its own slices.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DecodedImage } from '../../src/data/image.ts';
import { readImage } from '../../src/data/read-image.ts';
import { setNumThreads } from '../../src/engine/index.ts';
import { predictSlices, type SliceInput } from '../../src/inference/predict-slices.ts';
import { loadModels, SHIPPED_MODELS } from '../../src/pipeline/default-models.ts';
import { runnersOf } from '../../src/pipeline/load-model.ts';
import { predictVolume, type VolumePredictSummary } from '../../src/pipeline/predict-volume.ts';
import { parseNifti } from '../../src/volume/nifti.ts';
import { axialSlices } from '../../src/volume/patient-volume.ts';
import { readPatientVolume } from '../../src/volume/read-patient.ts';
import type { Affine } from '../../src/volume/volume.ts';
import { repoRoot } from '../data/fixtures.ts';
import { testNiftiBytes } from '../helpers/volumes.ts';

setNumThreads(2);

const EXAMPLES = join(repoRoot, 'examples', 'TCGA_DU_8167_19970402');
const AFFINE: Affine = [
  [0.9375, 0, 0, -119.5],
  [0, 0.9375, 0, -105.25],
  [0, 0, 5, -12.5],
  [0, 0, 0, 1],
];

describe('predict on a volume made from the example slices', () => {
  let dir: string;
  let tiffs: SliceInput[];
  let volumePath: string;
  let summary: VolumePredictSummary;
  const W = 256;
  const H = 256;
  /** The TIFF pixel (row, column) of voxel (i, j): the volume runs towards right and anterior. */
  const pixelOf = (i: number, j: number) => (H - 1 - j) * W + (W - 1 - i);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-volume-'));
    const names = readdirSync(EXAMPLES).filter((n) => n.endsWith('.tif'));
    const images: DecodedImage[] = [];
    tiffs = [];
    for (const name of names) {
      const image = await readImage(join(EXAMPLES, name));
      images.push(image);
      tiffs.push({ name, patient: 'p', sliceNumber: Number(/_(\d+)\.tif$/.exec(name)![1]), image });
    }
    tiffs.sort((a, b) => a.sliceNumber - b.sliceNumber);
    const ordered = tiffs.map((t) => t.image);
    const depth = ordered.length;
    const values = new Uint8Array(W * H * depth * 3);
    for (let c = 0; c < 3; c++)
      for (let k = 0; k < depth; k++)
        for (let j = 0; j < H; j++)
          for (let i = 0; i < W; i++)
            values[((c * depth + k) * H + j) * W + i] = ordered[k]!.data[pixelOf(i, j) * 3 + c]!;
    volumePath = join(dir, 'TCGA_DU_8167.nii.gz');
    writeFileSync(
      volumePath,
      testNiftiBytes({ shape: [W, H, depth, 3], type: 'uint8', values, affine: AFFINE }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shows the network the TIFFs’ own bytes, slice by slice', () => {
    const slices = axialSlices(readPatientVolume({ volume: volumePath }));
    assert.equal(slices.length, tiffs.length);
    slices.forEach((slice, k) => {
      assert.deepEqual([slice.image.width, slice.image.height], [W, H]);
      assert.ok(Buffer.from(slice.image.data).equals(Buffer.from(tiffs[k]!.image.data)), `slice ${k}`);
    });
  });

  it('writes mask.nii.gz and probabilities.nii.gz in the input’s space, voxel for voxel the slice-wise prediction', async () => {
    const models = loadModels(SHIPPED_MODELS);
    const out = join(dir, 'out');
    ({ summary } = await predictVolume({
      sources: { volume: volumePath },
      out,
      models,
      saveProbabilities: true,
    }));
    const sliceWise = await predictSlices(runnersOf(models), tiffs, { probabilities: true });
    const mask = parseNifti(readFileSync(join(out, 'mask.nii.gz')), 'mask.nii.gz');
    const input = parseNifti(readFileSync(volumePath), 'in');
    assert.deepEqual(mask.dims, [W, H, tiffs.length]);
    assert.equal(mask.channels, 1);
    assert.deepEqual(mask.affine, input.affine);
    assert.deepEqual(mask.space, input.space);
    const probabilities = parseNifti(readFileSync(join(out, 'probabilities.nii.gz')), 'p');
    assert.deepEqual(probabilities.affine, input.affine);
    let tumour = 0;
    sliceWise.slices.forEach((slice, k) => {
      for (let j = 0; j < H; j++) {
        for (let i = 0; i < W; i++) {
          const voxel = (k * H + j) * W + i;
          const expected = slice.mask ? slice.mask[pixelOf(i, j)]! : 0;
          tumour += expected;
          if (mask.data[voxel] !== expected) assert.fail(`mask voxel (${i}, ${j}, ${k})`);
          const p = slice.probabilities ? slice.probabilities[pixelOf(i, j)]! : 0;
          if (probabilities.data[voxel] !== p) assert.fail(`probability voxel (${i}, ${j}, ${k})`);
        }
      }
    });
    assert.ok(tumour > 100, 'the example patient has a tumour the shipped models find');
    assert.equal(summary.volume.tumourVoxels, tumour);
    const mm3 = input.spacing!.reduce((a, b) => a * b, 1) * tumour;
    assert.ok(Math.abs(summary.volume.tumourVolumeMm3! - mm3) < 1e-6 * mm3);
    assert.equal(summary.volume.orientation, 'RAS');
    assert.deepEqual(
      summary.slices.map((s) => [s.probability, s.areaPixels]),
      sliceWise.slices.map((s) => [s.probability, s.areaPixels]),
    );
  });
});
