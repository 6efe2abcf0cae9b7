// One two-stage core for every path: `tumorscope predict` (predictFiles, as the command runs it), the server's
// worker (predictResponse, the body /api/predict answers) and the page's in-browser pipeline (predictLocally,
// here with the libtorch runners in place of onnxruntime-web) decide the same on the example slices with the
// shipped models, for every gate: the reference gate saved with the models, the segmenter, the mean of both
// along neighbouring slices, and none. With the reference gate the answer is today's: the algorithm the
// project shipped before the core existed, written out below with its own libtorch calls.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { assembleBatch, cacheVolumeStats } from '../../src/data/batch.ts';
import { cacheFromImages } from '../../src/data/cache-from-images.ts';
import { resizeNearest } from '../../src/data/image.ts';
import { decodeTiff } from '../../src/data/tiff.ts';
import { F, noGrad, setNumThreads, type Tensor, tidy } from '../../src/engine/index.ts';
import { classifierScores } from '../../src/inference/network-outputs.ts';
import type { SliceInput } from '../../src/inference/predict-slices.ts';
import { predictResponseSchema } from '../../src/inference/prediction-schema.ts';
import type { TwoStageModels } from '../../src/inference/two-stage.ts';
import { loadModels } from '../../src/pipeline/default-models.ts';
import { type LoadedModels, runnersOf } from '../../src/pipeline/load-model.ts';
import { predictFiles } from '../../src/pipeline/predict-files.ts';
import type { PredictSummary } from '../../src/pipeline/predict-summary.ts';
import { sliceInputsFromFiles } from '../../src/pipeline/slice-inputs.ts';
import { postprocessMask } from '../../src/postprocess/apply.ts';
import { type GateChoice, resolveGate, smoothAlongSlices } from '../../src/postprocess/fusion.ts';
import { threshold } from '../../src/postprocess/threshold.ts';
import { modelsInfo } from '../../src/server/model-info.ts';
import { predictResponse } from '../../src/server/predict-response.ts';
import { predictLocally } from '../../web/src/local-pipeline.ts';
import { repoRoot } from '../data/fixtures.ts';

setNumThreads(1);

const EXAMPLES = join(repoRoot, 'examples', 'TCGA_DU_8167_19970402');
const BATCH = 4;

/** One slice's answer in the fields every path gives, with its mask as 0/1 bytes at the slice's size. */
interface Answer {
  name: string;
  slice: number;
  probability: number;
  score: number;
  tumour: boolean;
  classifierCall: boolean;
  areaPixels: number;
  bbox: unknown;
  mask: number[] | null;
}

const answerOf = (s: Omit<Answer, 'mask'>, mask: Uint8Array | null): Answer => ({
  name: s.name,
  slice: s.slice,
  probability: s.probability,
  score: s.score,
  tumour: s.tumour,
  classifierCall: s.classifierCall,
  areaPixels: s.areaPixels,
  bbox: s.bbox,
  mask: mask ? Array.from(mask, (v) => (v ? 1 : 0)) : null,
});

async function pngMask(png: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(png).extractChannel(0).raw().toBuffer());
}

/**
 * The runners with each network answer remembered by its exact input: a path that fed the networks anything
 * else would miss and get its own answer, so sharing them between paths hides no difference, and spares the
 * machine the same forward passes twice.
 */
function remembering(models: TwoStageModels): TwoStageModels {
  const remember = (run: (input: Float32Array, n: number) => Promise<Float32Array>) => {
    const seen = new Map<string, Float32Array>();
    return async (input: Float32Array, n: number) => {
      const key = `${n}:${createHash('sha256').update(input).digest('hex')}`;
      let output = seen.get(key);
      if (!output) {
        output = await run(input, n);
        seen.set(key, output);
      }
      return output.slice();
    };
  };
  return {
    classifier: { ...models.classifier, run: remember(models.classifier.run) },
    segmenter: { ...models.segmenter, run: remember(models.segmenter.run) },
  };
}

/**
 * The reference gate as the project ran it before the core: classifier scores from training's batches, the
 * segmenter on the called slices with its flips done on tensors, the pixel threshold, rejected slices emptied,
 * the saved post-processing on the volume, masks resized back to each slice.
 */
function todaysAnswer(models: LoadedModels, volume: SliceInput[]): Answer[] {
  const { classifier, segmenter } = models;
  const c = classifier.preprocess;
  const s = segmenter.preprocess;
  const small = cacheFromImages(volume, c.width, c.height);
  const large = cacheFromImages(volume, s.width, s.height);
  const all = volume.map((_, k) => k);
  const scores = classifierScores(classifier.model, {
    cache: small,
    indices: all,
    preprocess: c,
    volumeStats: cacheVolumeStats(small, c),
    batchSize: BATCH,
  });
  const called = all.filter((k) => scores[k]! >= classifier.config.threshold);
  const pixels = s.width * s.height;
  const raw = new Uint8Array(volume.length * pixels);
  const flips = segmenter.postprocess.tta === 'flips' ? [[], [3], [2], [2, 3]] : [[]];
  for (let start = 0; start < called.length; start += BATCH) {
    const batch = called.slice(start, start + BATCH);
    const probs = noGrad(() =>
      tidy(() => {
        const { images } = assembleBatch(large, batch, {
          preprocess: s,
          volumeStats: cacheVolumeStats(large, s),
        });
        let sum: Tensor | undefined;
        for (const dims of flips) {
          const p = F.sigmoid(segmenter.model.forward(dims.length ? images.flip(...dims) : images));
          const back = dims.length ? p.flip(...dims) : p;
          sum = sum ? sum.add(back) : back;
        }
        return sum!.div(flips.length).contiguous().toFloat32();
      }),
    );
    const masks = threshold(probs, segmenter.postprocess.threshold);
    batch.forEach((k, b) => {
      raw.set(masks.subarray(b * pixels, (b + 1) * pixels), k * pixels);
    });
  }
  const final = postprocessMask(raw, volume.length, s.height, s.width, segmenter.postprocess);
  return volume.map((input, k) => {
    // The final output decides: a called slice whose mask post-processing emptied holds no tumour.
    const atModel = final.slice(k * pixels, (k + 1) * pixels);
    const tumour = atModel.some((v) => v !== 0);
    const { width, height } = input.image;
    const mask = tumour ? resizeNearest(atModel, s.width, s.height, width, height) : null;
    return answerOf(
      {
        name: input.name,
        slice: input.sliceNumber,
        probability: scores[k]!,
        score: scores[k]!,
        tumour,
        classifierCall: scores[k]! >= classifier.config.threshold,
        areaPixels: mask ? mask.reduce((n, v) => n + (v ? 1 : 0), 0) : 0,
        bbox: null,
      },
      mask,
    );
  });
}

describe('one two-stage core for predict, the server and the browser', () => {
  let dir: string;
  let models: LoadedModels;
  let shared: TwoStageModels;
  let files: { name: string; bytes: Uint8Array }[];
  let inputs: SliceInput[];
  const answers = new Map<string, { predict: Answer[]; server: Answer[]; browser: Answer[] }>();

  /** Each path's answer under one gate. */
  async function allPaths(label: string, choice: GateChoice | undefined) {
    const fusion = resolveGate(models.segmenter.fusion, models.classifier.config.threshold, choice);

    const out = join(dir, label);
    const { summary } = await predictFiles({ input: EXAMPLES, out, models, fusion, batch: BATCH });
    assert.deepEqual(summary.gate, fusion);
    const predict = await Promise.all(
      summary.slices.map(async (s: PredictSummary['slices'][number]) =>
        answerOf(s, s.mask ? await pngMask(readFileSync(join(out, s.mask))) : null),
      ),
    );

    const body = await predictResponse(
      shared,
      modelsInfo(models, fusion),
      { uploads: files.map((f) => ({ ...f, kind: 'image' as const })), includeImage: false },
      { fusion, batch: BATCH, maxSlices: 100, maxUnpackedBytes: 1 << 20 },
    );
    const response = predictResponseSchema.parse(JSON.parse(new TextDecoder().decode(body)));
    assert.deepEqual(response.gate, fusion);
    const server = await Promise.all(
      response.slices.map(async (s) =>
        answerOf(s, s.mask ? await pngMask(Buffer.from(s.mask.split(',')[1]!, 'base64')) : null),
      ),
    );

    // As the page decodes and names its files.
    const local = files.map((f) => ({ name: f.name, image: decodeTiff(f.bytes, f.name) }));
    const prediction = await predictLocally(local, shared, { fusion, batch: BATCH });
    const browser = prediction.slices.map((s) => answerOf(s, s.mask));

    answers.set(label, { predict, server, browser });
    return {
      fusion,
      predict,
      server,
      browser,
      patients: [summary.patients, response.patients, prediction.patients],
    };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-one-core-'));
    models = loadModels();
    shared = remembering(runnersOf(models));
    files = readdirSync(EXAMPLES)
      .filter((f) => f.endsWith('.tif'))
      .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(EXAMPLES, name))) }));
    inputs = await sliceInputsFromFiles(files);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const gates: [string, GateChoice | undefined][] = [
    ['saved with the models', undefined],
    ['classifier (reference gate)', { gate: 'classifier' }],
    ['segmenter', { gate: 'segmenter' }],
    ['mean over ±1 slice', { gate: 'mean', sliceRadius: 1 }],
    ['none', { gate: 'none' }],
  ];
  for (const [label, choice] of gates) {
    it(`decides the same on every path with the gate: ${label}`, async () => {
      const { fusion, predict, server, browser, patients } = await allPaths(label, choice);
      assert.equal(predict.length, files.length);
      assert.deepEqual(server, predict, 'the server answers as predict');
      assert.deepEqual(browser, predict, 'the browser pipeline answers as predict');
      assert.deepEqual(patients[1], patients[0]);
      assert.deepEqual(patients[2], patients[0]);
      for (const s of predict) {
        // The final mask decides; the gate only lets a slice through.
        assert.equal(s.tumour, s.areaPixels > 0, `${s.name}: the final mask decides`);
        if (s.tumour) assert.ok(s.score >= fusion.threshold, `${s.name}: a slice the gate rejects is empty`);
        assert.equal(s.mask !== null, s.tumour, s.name);
        assert.equal(s.classifierCall, s.probability >= models.classifier.config.threshold, s.name);
      }
      assert.ok(
        predict.some((s) => s.tumour),
        'the example patient has tumour on some slices',
      );
    });
  }

  it('scores each detector as defined: the mean detector averages P and the segmenter score along slices', () => {
    const segmenter = answers.get('segmenter')!.predict;
    const mean = answers.get('mean over ±1 slice')!.predict;
    const expected = smoothAlongSlices(
      segmenter.map((s) => (s.probability + s.score) / 2),
      1,
    );
    mean.forEach((s, k) => {
      assert.ok(Math.abs(s.score - expected[k]!) < 1e-6, `${s.name}: ${s.score} vs ${expected[k]}`);
    });
    // The reference gate's score is the classifier's P.
    for (const s of answers.get('classifier (reference gate)')!.predict) assert.equal(s.score, s.probability);
  });

  it('with the reference gate gives what the project gave before the core', () => {
    const expected = todaysAnswer(models, inputs);
    const actual = answers.get('classifier (reference gate)')!.predict;
    assert.equal(actual.length, expected.length);
    for (const [k, got] of actual.entries()) {
      const want = expected[k]!;
      assert.equal(got.name, want.name);
      assert.ok(Math.abs(got.probability - want.probability) < 1e-6, `${got.name}: P ${got.probability}`);
      assert.equal(got.tumour, want.tumour, got.name);
      if (!got.mask || !want.mask) {
        assert.equal(got.mask, want.mask);
        continue;
      }
      assert.ok(Math.abs(got.areaPixels - want.areaPixels) <= 2, got.name);
      // Float rounding may flip a pixel whose probability sits on the threshold; no more.
      const differing = got.mask.reduce((n, v, i) => n + (v !== want.mask![i] ? 1 : 0), 0);
      assert.ok(differing <= 2, `${got.name}: ${differing} mask pixels differ`);
    }
  });
});
