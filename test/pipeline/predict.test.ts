// predictSlices, the in-memory prediction core (src/inference/predict-slices.ts), on the tiny visible-tumour
// dataset with two briefly trained models on libtorch: its masks against evaluation's final masks on the same
// slices, the input-size masks, the gating, the per-patient figures, the upload naming and the PNGs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { scanDataset } from '../../src/data/dataset-index.ts';
import { DataError, MixedSliceSizesError, TooManySlicesError } from '../../src/data/errors.ts';
import { type DecodedImage, resizeBilinear, resizeNearest } from '../../src/data/image.ts';
import { readImage } from '../../src/data/read-image.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import { MAX_SLICES_PER_PATIENT, placeSlices } from '../../src/data/slice-names.ts';
import { setNumThreads } from '../../src/engine/index.ts';
import {
  type PredictOptions,
  predictSlices as predictOn,
  type SliceInput,
} from '../../src/inference/predict-slices.ts';
import { twoStageVolume } from '../../src/inference/two-stage.ts';
import { maskExtent } from '../../src/metrics/mask-extent.ts';
import { loadModels, SHIPPED_MODELS } from '../../src/pipeline/default-models.ts';
import { sizeKey } from '../../src/pipeline/evaluation-data.ts';
import { cacheVolume, pipelineRecords } from '../../src/pipeline/evaluation-volumes.ts';
import { type LoadedModels, runnersOf } from '../../src/pipeline/load-model.ts';
import { maskPng, overlayPng } from '../../src/pipeline/predict-images.ts';
import { sliceInputsFromFiles } from '../../src/pipeline/slice-inputs.ts';
import { referenceGate } from '../../src/postprocess/fusion.ts';
import { repoRoot } from '../data/fixtures.ts';
import { IMAGE_SIZE, PATIENTS, writeVisibleTumours } from '../helpers/visible-tumours.ts';
import { SEGMENTER_SIZE, TEST_PATIENTS, trainTinyModels } from './fixtures.ts';

setNumThreads(1);
const quiet = () => {};

/** predictSlices with the loaded models on libtorch. */
const predictSlices = (m: LoadedModels, inputs: readonly SliceInput[], o?: PredictOptions) =>
  predictOn(runnersOf(m), inputs, o);

/** The models with another classifier threshold or segmenter post-processing (as if saved so). */
function withSettings(
  models: LoadedModels,
  s: { threshold?: number; postprocess?: Partial<LoadedModels['segmenter']['postprocess']> },
): LoadedModels {
  const { classifier, segmenter } = models;
  return {
    classifier: {
      ...classifier,
      config: { ...classifier.config, threshold: s.threshold ?? classifier.config.threshold },
    },
    segmenter: { ...segmenter, postprocess: { ...segmenter.postprocess, ...s.postprocess } },
  };
}

/** The same image at another size, as a file of that size would decode. */
function resized(image: DecodedImage, width: number, height: number): DecodedImage {
  const data = resizeBilinear(image.data, image.width, image.height, image.channels, width, height);
  return { ...image, width, height, data };
}

/** The first channel only: a grayscale slice. */
function grayscale(image: DecodedImage): DecodedImage {
  const data = new Uint8Array(image.width * image.height);
  for (let i = 0; i < data.length; i++) data[i] = image.data[i * image.channels]!;
  return { ...image, channels: 1, data };
}

describe('predictSlices', () => {
  let dir: string;
  let data: string;
  let models: LoadedModels;
  let inputs: SliceInput[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-predict-'));
    data = writeVisibleTumours(join(dir, 'kaggle_3m'));
    const paths = await trainTinyModels(data, join(dir, 'runs'));
    models = loadModels(paths);
    const index = scanDataset(data, { slicesOnly: true });
    const slices = index.patients.filter((p) => TEST_PATIENTS.includes(p.id)).flatMap((p) => p.slices);
    inputs = await Promise.all(
      slices.map(async (s) => ({
        name: s.imagePath,
        patient: s.patientId,
        sliceNumber: s.sliceNumber,
        image: await readImage(s.imagePath),
      })),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * What `tumorscope evaluate` computes on the test patients: slices decoded from the files into one cache per
   * model size, per patient volume the final masks at the segmenter's size (with the segmenter alone on the
   * tumour slices as well), and its records; keyed by `patient/slice`.
   */
  async function evaluationOutputs(m: LoadedModels) {
    const index = scanDataset(data);
    const test = { ...index, patients: index.patients.filter((p) => TEST_PATIENTS.includes(p.id)) };
    const { classifier, segmenter } = m;
    const small = await loadSlices(test, { width: classifier.preprocess.width });
    const large = await loadSlices(test, { width: segmenter.preprocess.width });
    const caches = new Map([
      [sizeKey(small), small],
      [sizeKey(large), large],
    ]);
    const all = Array.from({ length: small.count }, (_, i) => i);
    const runners = runnersOf(m);
    const fusion = referenceGate(classifier.config.threshold);
    const { records } = await pipelineRecords(runners, caches, all, { batch: 8, fusion, log: quiet });
    const out = new Map<string, { score: number; final: Uint8Array; predVoxels: number }>();
    for (const patient of TEST_PATIENTS) {
      const volume = all.filter((i) => large.slices[i]!.patientId === patient);
      const aloneOn = volume.map((i) => large.tumourPixels[i]! > 0);
      const { final } = await twoStageVolume(runners, cacheVolume(caches, volume), { batch: 8, aloneOn });
      const px = large.width * large.height;
      volume.forEach((i, k) => {
        const record = records[i]!;
        out.set(`${patient}/${large.slices[i]!.sliceNumber}`, {
          score: record.score,
          final: final.slice(k * px, (k + 1) * px),
          predVoxels: record.endToEnd.predVoxels,
        });
      });
    }
    return out;
  }

  async function assertAgreesWithEvaluation(m: LoadedModels, given: readonly SliceInput[]) {
    const expected = await evaluationOutputs(m);
    const prediction = await predictSlices(m, given, { batch: 8 });
    assert.equal(prediction.slices.length, expected.size);
    let positives = 0;
    let tumourPixels = 0;
    for (const s of prediction.slices) {
      const e = expected.get(`${s.patient}/${s.slice}`)!;
      assert.ok(Math.abs(s.probability - e.score) < 1e-5, `${s.name}: ${s.probability} vs ${e.score}`);
      // The final mask decides; the gate only lets slices through (a gate of threshold 0 lets every one).
      const threshold = m.classifier.config.threshold;
      assert.equal(
        s.tumour,
        e.final.some((v) => v !== 0),
      );
      if (e.score < threshold) assert.equal(s.tumour, false, `${s.name}: rejected by the gate`);
      assert.equal(s.classifierCall, e.score >= threshold);
      const finalAtInput = resizeNearest(e.final, SEGMENTER_SIZE, SEGMENTER_SIZE, IMAGE_SIZE, IMAGE_SIZE);
      if (s.tumour) {
        assert.deepEqual(s.mask, finalAtInput, `${s.name}: mask differs from evaluation's final mask`);
        positives++;
      } else {
        assert.equal(s.mask, null);
        assert.equal(e.predVoxels, 0, 'evaluation gates the slices the classifier rejects');
      }
      tumourPixels += s.areaPixels;
    }
    return { positives, tumourPixels };
  }

  it("gives evaluation's scores and final masks (resized back to the input), with the saved post-processing", async () => {
    const { positives, tumourPixels } = await assertAgreesWithEvaluation(models, inputs);
    // Not a vacuous agreement: the tiny models find tumours on some slices and not on others.
    assert.ok(positives > 0 && positives < inputs.length, `${positives} positive slices`);
    assert.ok(tumourPixels > 0);
  });

  it('post-processes whole patient volumes, whatever the input order', async () => {
    // The largest 3-D component needs each volume whole: interleaved, reversed input must not change it. Here
    // evaluation segments every slice (the segmenter alone needs them) and prediction only the called ones.
    const volumetric = withSettings(models, {
      postprocess: { largest3DComponent: true, minComponentArea: 3 },
    });
    const shuffled = [...inputs].reverse().sort((a, b) => (a.sliceNumber % 3) - (b.sliceNumber % 3));
    const { positives } = await assertAgreesWithEvaluation(volumetric, shuffled);
    assert.ok(positives > 0 && positives < inputs.length, `${positives} positive slices`);
    // Every slice called: the 3-D component then spans slices the classifier would have rejected.
    await assertAgreesWithEvaluation(withSettings(volumetric, { threshold: 0 }), shuffled);
  });

  it('returns slices sorted by patient then slice, and per-patient sums of its slices', async () => {
    // Every slice segmented (a gate of threshold 0): the masks decide which slices hold tumour.
    const everything = withSettings(models, { threshold: 0 });
    const prediction = await predictSlices(everything, [...inputs].reverse(), { batch: 5 });
    const keys = prediction.slices.map((s) => [s.patient, s.slice] as const);
    const sorted = [...keys].sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1]);
    assert.deepEqual(keys, sorted);
    assert.deepEqual(
      prediction.patients.map((p) => p.patient),
      [...TEST_PATIENTS].sort(),
    );
    for (const p of prediction.patients) {
      const mine = prediction.slices.filter((s) => s.patient === p.patient);
      const positive = mine.filter((s) => s.tumour).map((s) => s.slice);
      assert.equal(p.slices, mine.length);
      assert.equal(p.positiveSlices, positive.length);
      assert.equal(p.firstPositiveSlice, Math.min(...positive));
      assert.equal(p.lastPositiveSlice, Math.max(...positive));
      assert.equal(
        p.volumeVoxels,
        mine.reduce((n, s) => n + s.areaPixels, 0),
      );
      for (const s of mine) {
        assert.equal(s.tumour, s.mask !== null && s.areaPixels > 0, s.name);
        if (!s.mask) continue;
        const extent = maskExtent(s.mask, s.width, s.height);
        assert.equal(s.areaPixels, extent.area);
        assert.deepEqual(s.bbox, extent.bbox);
      }
    }
    assert.ok(prediction.slices.some((s) => !s.tumour) && prediction.slices.some((s) => s.tumour));
  });

  it('gates by the classifier: below its threshold, no mask and nothing counted', async () => {
    // Above any probability (a saved threshold is at most 1, where a float32 softmax can still reach it).
    const none = await predictSlices(withSettings(models, { threshold: 2 }), inputs);
    for (const s of none.slices) {
      assert.equal(s.tumour, false);
      assert.equal(s.mask, null);
      assert.equal(s.areaPixels, 0);
      assert.equal(s.bbox, null);
    }
    for (const p of none.patients) {
      assert.deepEqual(
        [p.positiveSlices, p.firstPositiveSlice, p.lastPositiveSlice, p.volumeVoxels],
        [0, null, null, 0],
      );
    }
    // A segmenter that marks every pixel (threshold 0, nothing removed after): the called slices get full
    // masks, the others none.
    const full = withSettings(models, {
      postprocess: { threshold: 0, minComponentArea: 0, largest3DComponent: false },
    });
    const threshold = full.classifier.config.threshold;
    for (const s of (await predictSlices(full, inputs)).slices) {
      assert.equal(s.tumour, s.probability >= threshold);
      assert.equal(s.areaPixels, s.tumour ? IMAGE_SIZE * IMAGE_SIZE : 0);
    }
  });

  it('returns masks at each input’s own size, for any size and for grayscale slices', async () => {
    const full = withSettings(models, { threshold: 0, postprocess: { threshold: 0 } });
    const [first, second] = inputs;
    // Each size is a patient of its own: one patient's slices must share a size (see below).
    const odd: SliceInput[] = [
      { ...first!, patient: 'odd-1', image: resized(first!.image, 50, 30) },
      { ...second!, patient: 'odd-2', image: grayscale(resized(second!.image, 17, 64)) },
    ];
    const prediction = await predictSlices(full, odd);
    assert.deepEqual(
      prediction.slices.map((s) => [s.width, s.height, s.mask!.length, s.areaPixels]),
      [
        [50, 30, 1500, 1500],
        [17, 64, 1088, 1088],
      ],
    );
    assert.deepEqual(prediction.slices[0]!.bbox, { x: 0, y: 0, width: 50, height: 30 });
    // A real segmenter's mask resized back keeps its place: at 64×64 it is the 32×32 mask scaled by two.
    const real = withSettings(models, { threshold: 0 });
    const small = (await predictSlices(real, [first!])).slices[0]!;
    const large = (await predictSlices(real, [{ ...first!, image: resized(first!.image, 64, 64) }]))
      .slices[0]!;
    assert.equal(large.mask === null, small.mask === null);
    if (large.mask) assert.equal(large.mask.length, 64 * 64);
    if (small.bbox) assert.ok(large.bbox && Math.abs(large.bbox.x - 2 * small.bbox.x) <= 4);
  });

  it('reports progress in slices up to the total', async () => {
    const seen: [number, number][] = [];
    await predictSlices(models, inputs, { batch: 3, onProgress: (done, total) => seen.push([done, total]) });
    assert.deepEqual(seen[seen.length - 1], [inputs.length, inputs.length]);
    for (let k = 1; k < seen.length; k++) assert.ok(seen[k]![0] >= seen[k - 1]![0]);
  });

  it('refuses a slice given twice and an image whose bytes do not match its size, naming them', async () => {
    await assert.rejects(
      predictSlices(models, [inputs[0]!, { ...inputs[0]!, name: 'copy.tif' }]),
      /copy\.tif.*given twice/,
    );
    const broken = {
      ...inputs[0]!,
      name: 'short.png',
      image: { ...inputs[0]!.image, data: new Uint8Array(10) },
    };
    await assert.rejects(predictSlices(models, [broken]), /short\.png: 10 bytes/);
    await assert.rejects(
      predictSlices(models, inputs, { batch: 0 }),
      /batch size must be an integer ≥ 1, got 0/,
    );
  });

  it('refuses a patient of more slices than MAX_SLICES_PER_PATIENT, and one of mixed slice sizes, naming a file', async () => {
    const pixel: DecodedImage = {
      width: 1,
      height: 1,
      channels: 1,
      data: new Uint8Array([9]),
      sourceBits: 8,
    };
    const many = Array.from({ length: MAX_SLICES_PER_PATIENT + 1 }, (_, k) => ({
      name: `p_${k + 1}.tif`,
      patient: 'p',
      sliceNumber: k + 1,
      image: pixel,
    }));
    await assert.rejects(
      predictSlices(models, many),
      (err: Error) =>
        err instanceof TooManySlicesError &&
        err.message === `p_1.tif: patient p has 257 slices, more than the 256 one patient may have`,
    );
    // At the limit it runs.
    assert.equal((await predictSlices(models, many.slice(1))).slices.length, MAX_SLICES_PER_PATIENT);

    const [a, b, c] = inputs;
    const mixed = [a!, { ...b!, image: resized(b!.image, 40, 20) }, c!];
    await assert.rejects(
      predictSlices(models, mixed),
      (err: Error) =>
        err instanceof MixedSliceSizesError &&
        err.file === b!.name &&
        err.message.includes(`40×20, but patient ${b!.patient}'s other slices are 32×32`),
    );
  });

  it('turns uploads into slices: the dataset naming, else the folder or "upload" and the order', async () => {
    const id = PATIENTS[0]!;
    const tif = readFileSync(join(data, id, `${id}_3.tif`));
    const png = await sharp(Buffer.alloc(20 * 10 * 3, 90), { raw: { width: 20, height: 10, channels: 3 } })
      .png()
      .toBuffer();
    const slices = await sliceInputsFromFiles([
      { name: `${id}_3.tif`, bytes: tif },
      { name: 'scan.png', bytes: png },
      { name: 'brain/b.png', bytes: png },
      { name: 'brain/a.png', bytes: png },
    ]);
    assert.deepEqual(
      slices.map((s) => [s.name, s.patient, s.sliceNumber, s.image.width]),
      [
        [`${id}_3.tif`, id, 3, IMAGE_SIZE],
        ['scan.png', 'upload', 1, 20],
        ['b.png', 'brain', 1, 20],
        ['a.png', 'brain', 2, 20],
      ],
    );
    assert.deepEqual(placeSlices(['x.png'], { patient: 'p' }), [{ patient: 'p', sliceNumber: 1 }]);
    await assert.rejects(
      sliceInputsFromFiles([{ name: `${id}_3_mask.tif`, bytes: tif }]),
      (err: Error) => err instanceof DataError && /_3_mask\.tif: this is a mask/.test(err.message),
    );
    await assert.rejects(
      sliceInputsFromFiles([{ name: 'notes.png', bytes: new TextEncoder().encode('hello') }]),
      /notes\.png: not an image/,
    );
  });

  it('draws a one-channel 0/255 mask PNG and an overlay at the image size', async () => {
    const image = resized(inputs[1]!.image, 40, 24);
    const mask = new Uint8Array(40 * 24);
    for (let y = 5; y < 15; y++) for (let x = 10; x < 30; x++) mask[y * 40 + x] = 1;
    const maskInfo = await sharp(await maskPng(mask, 40, 24)).metadata();
    assert.deepEqual([maskInfo.width, maskInfo.height, maskInfo.channels], [40, 24, 1]);
    const decoded = await sharp(await maskPng(mask, 40, 24))
      .extractChannel(0)
      .raw()
      .toBuffer();
    assert.deepEqual(
      [...new Set(decoded)].sort((a, b) => a - b),
      [0, 255],
    );
    assert.equal(decoded.filter((v) => v === 255).length, 200);
    const overlay = await sharp(await overlayPng(image, mask))
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([overlay.info.width, overlay.info.height, overlay.info.channels], [40, 24, 3]);
    const at = (x: number, y: number) => [...overlay.data.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3)];
    const source = (x: number, y: number) => [...image.data.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3)];
    assert.deepEqual(at(0, 0), source(0, 0), 'outside the mask the slice is unchanged');
    assert.deepEqual(at(10, 5), [255, 40, 40], 'the outline is solid');
    const [r, g] = at(20, 10);
    assert.ok(r! > source(20, 10)[0]! && g! < r!, 'the inside is tinted red');
    await assert.rejects(maskPng(mask, 41, 24), /not 41×24/);
  });

  it('loads the shipped models from the repository, whatever the working directory, and names missing files', () => {
    assert.equal(SHIPPED_MODELS.classifier, join(repoRoot, 'models', 'classifier'));
    assert.equal(SHIPPED_MODELS.segmenter, join(repoRoot, 'models', 'segmenter'));
    assert.throws(
      () => loadModels({ classifier: join(dir, 'nowhere', 'best') }),
      new RegExp(`${join(dir, 'nowhere', 'best')}\\.json: model config not found`),
    );
    const segmenterBase = join(dir, 'runs', 'segmenter', 'best');
    assert.throws(
      () => loadModels({ classifier: segmenterBase, segmenter: segmenterBase }),
      /segmenter[\\/]best\.json: this is a segmenter model, but a classifier was expected/,
    );
  });
});
