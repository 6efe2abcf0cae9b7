// The two-stage core (src/inference/two-stage.ts) with stand-in networks whose outputs are known: which slices
// each gate sends to the segmenter, what it scores them by, that the final mask decides (the gate's and the
// classifier's own calls beside it), the steps that read the whole volume, and the segmenter-alone output
// evaluation asks for. With real networks and every inference path: one-core.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PreprocessConfig } from '../../src/data/preprocess.ts';
import {
  type ClassifierRunner,
  type SegmenterRunner,
  type TwoStageModels,
  twoStageVolume,
  type VolumeImages,
} from '../../src/inference/two-stage.ts';
import type { PostprocessConfig } from '../../src/postprocess/config.ts';
import type { FusionConfig } from '../../src/postprocess/fusion.ts';

const SIZE = 4;
const PIXELS = SIZE * SIZE;
const rescale: PreprocessConfig = {
  version: 1,
  width: SIZE,
  height: SIZE,
  channels: 3,
  intensity: { kind: 'rescale' },
};

/**
 * A volume whose slice k is uniformly grey at brightness[k]. The stand-in classifier answers P = brightness/255
 * read off the slice; the stand-in segmenter marks one pixel (0, 0) with probability segmenterMax[k], read off
 * the slice too (its green channel), so that both answers follow the slice wherever the core puts it in a batch.
 */
function setUp(classifierP: number[], segmenterMax: number[], post: Partial<PostprocessConfig> = {}) {
  const depth = classifierP.length;
  const rgb = new Uint8Array(depth * PIXELS * 3);
  for (let k = 0; k < depth; k++)
    for (let i = 0; i < PIXELS; i++) {
      rgb[(k * PIXELS + i) * 3] = Math.round(classifierP[k]! * 255);
      rgb[(k * PIXELS + i) * 3 + 1] = Math.round(segmenterMax[k]! * 255);
    }
  const volume: VolumeImages = { depth, rgb: () => rgb };
  const segmented: number[] = [];
  const classifier: ClassifierRunner = {
    preprocess: rescale,
    threshold: 0.5,
    run: async (input, n) => Float32Array.from({ length: n }, (_, k) => input[k * 3 * PIXELS]!),
  };
  const segmenter: SegmenterRunner = {
    preprocess: rescale,
    postprocess: { threshold: 0.5, minComponentArea: 0, largest3DComponent: false, tta: 'none', ...post },
    run: async (input, n) => {
      const out = new Float32Array(n * PIXELS);
      for (let k = 0; k < n; k++) {
        const p = input[k * 3 * PIXELS + PIXELS]!; // green channel, first pixel
        segmented.push(Math.round(p * 255));
        out[k * PIXELS] = p;
      }
      return out;
    },
  };
  const models: TwoStageModels = { classifier, segmenter };
  const run = (fusion?: FusionConfig, aloneOn?: boolean[]) =>
    twoStageVolume(models, volume, {
      batch: 2,
      ...(fusion ? { fusion } : {}),
      ...(aloneOn ? { aloneOn } : {}),
    });
  /** Which slices the segmenter saw, by their segmenterMax byte. */
  const seen = () => segmented.splice(0).sort((a, b) => a - b);
  return { run, seen, models, volume };
}

const masked = (final: Uint8Array, depth: number) =>
  Array.from({ length: depth }, (_, k) => final.subarray(k * PIXELS, (k + 1) * PIXELS).some((v) => v !== 0));

describe('the two-stage core', () => {
  // Slice:          0    1    2    3    4
  const classifier = [0.9, 0.2, 0.6, 0.1, 0.8];
  const segmenter = [0.8, 0.9, 0.2, 0.1, 0.6];
  const bytes = (ps: number[]) => ps.map((p) => Math.round(p * 255));

  it('the reference gate: the classifier decides, the segmenter runs on the called slices only', async () => {
    const { run, seen } = setUp(classifier, segmenter);
    const out = await run();
    assert.deepEqual(out.gateCall, [true, false, true, false, true]);
    assert.deepEqual(out.classifierCall, [true, false, true, false, true]);
    assert.deepEqual(
      seen(),
      bytes([0.8, 0.2, 0.6]).sort((a, b) => a - b),
    );
    assert.deepEqual([...out.score], [...out.probability]);
    // Called slice 2's segmenter output is below the pixel threshold: called, but its final mask is empty, and
    // the final output decides.
    assert.deepEqual(masked(out.final, 5), [true, false, false, false, true]);
    assert.deepEqual(out.tumour, [true, false, false, false, true]);
    assert.deepEqual(out.volumeSteps, []);
  });

  it('the segmenter detector scores by the largest pixel probability, after running on every slice', async () => {
    const { run, seen } = setUp(classifier, segmenter);
    const out = await run({ detector: 'segmenter', sliceRadius: 0, threshold: 0.5 });
    assert.equal(seen().length, 5);
    assert.deepEqual(out.tumour, [true, true, false, false, true]);
    // The classifier's own call, whatever gate decided: slice 1 is tumour though the classifier said no.
    assert.deepEqual(out.classifierCall, [true, false, true, false, true]);
    assert.deepEqual(
      [...out.score].map((s) => Math.round(s * 255)),
      bytes(segmenter),
    );
    assert.deepEqual(masked(out.final, 5), [true, true, false, false, true]);
  });

  it('the mean detector averages both, and a slice radius averages along the volume', async () => {
    const { run } = setUp(classifier, segmenter);
    const mean = await run({ detector: 'mean', sliceRadius: 0, threshold: 0.5 });
    // Means 0.85, 0.55, 0.4, 0.1, 0.7 (to the bytes' rounding).
    assert.deepEqual(mean.tumour, [true, true, false, false, true]);
    const smoothed = await run({ detector: 'mean', sliceRadius: 1, threshold: 0.5 });
    // Averaged with the neighbours that exist: 0.7, 0.6, 0.35, 0.4, 0.4.
    assert.deepEqual(smoothed.tumour, [true, true, false, false, false]);
    assert.deepEqual(smoothed.volumeSteps, [
      "gate score averaged along ±1 slices across the patient's slices (a slice's result depends on the others given with it)",
    ]);
    assert.ok(Math.abs(smoothed.score[0]! - (mean.score[0]! + mean.score[1]!) / 2) < 1e-6);
  });

  it('a gate of threshold 0 (none) segments every slice and leaves the decision to the mask', async () => {
    const { run, seen } = setUp(classifier, segmenter);
    const out = await run({ detector: 'segmenter', sliceRadius: 0, threshold: 0 });
    assert.equal(seen().length, 5);
    assert.deepEqual(out.tumour, masked(out.final, 5));
    assert.deepEqual(out.tumour, [true, true, false, false, true]);
  });

  it('segments the slices evaluation asks for as well, and returns the segmenter alone on them', async () => {
    const { run, seen } = setUp(classifier, segmenter);
    const out = await run(undefined, [false, true, false, false, false]);
    assert.deepEqual(
      seen(),
      bytes([0.8, 0.9, 0.2, 0.6]).sort((a, b) => a - b),
    );
    // Slice 1 is rejected by the gate: empty in the final output, found by the segmenter alone.
    assert.deepEqual(masked(out.final, 5), [true, false, false, false, true]);
    assert.deepEqual(masked(out.alone!, 5), [true, true, false, false, true]);
    // With the largest 3-D component on, the segmenter alone needs every slice.
    const volumetric = setUp(classifier, segmenter, { largest3DComponent: true });
    await volumetric.run(undefined, [false, true, false, false, false]);
    assert.equal(volumetric.seen().length, 5);
  });

  it('uses the rule saved with the segmenter unless given one', async () => {
    const { models, volume } = setUp(classifier, segmenter);
    models.segmenter.fusion = { detector: 'segmenter', sliceRadius: 0, threshold: 0.5 };
    const saved = await twoStageVolume(models, volume, { batch: 2 });
    assert.deepEqual(saved.tumour, [true, true, false, false, true]);
    const given = await twoStageVolume(models, volume, {
      batch: 2,
      fusion: { detector: 'classifier', sliceRadius: 0, threshold: 0.5 },
    });
    assert.deepEqual(given.gateCall, [true, false, true, false, true]);
    assert.deepEqual(given.tumour, [true, false, false, false, true]);
  });

  it('says when the largest 3-D component made a slice alone differ from the same slice in its volume', async () => {
    // One tumour pixel on slices 0, 1 and 3: slices 0–1 are one 3-D component, slice 3 another, smaller one.
    const inside = setUp([0.9, 0.9, 0.9, 0.9], [0.9, 0.9, 0.1, 0.9], { largest3DComponent: true });
    const volume = await inside.run();
    assert.deepEqual(volume.tumour, [true, true, false, false]);
    assert.deepEqual(volume.classifierCall, [true, true, true, true]);
    assert.deepEqual(volume.volumeSteps, [
      "largest 3-D component across the patient's slices (a slice's result depends on the others given with it)",
    ]);
    // Slice 3 alone is its own largest component: tumour, and the output says what ran on it alone.
    const alone = await setUp([0.9], [0.9], { largest3DComponent: true }).run();
    assert.deepEqual(alone.tumour, [true]);
    assert.deepEqual(alone.volumeSteps, [
      'largest 3-D component on this one slice alone (inside its patient folder the slice can come out otherwise)',
    ]);
  });
});

describe('a 2.5-D segmenter in the core', () => {
  it('gets each slice with its neighbours in the volume, and the output says the slices depend on each other', async () => {
    // Slice k is grey at 10·(k + 1) in every channel; the stand-in segmenter records, for every slice it is
    // given, the brightness of each of its three stacked slices.
    const depth = 4;
    const rgb = new Uint8Array(depth * PIXELS * 3);
    for (let k = 0; k < depth; k++) rgb.fill(10 * (k + 1), k * PIXELS * 3, (k + 1) * PIXELS * 3);
    const seen: number[][] = [];
    const models: TwoStageModels = {
      classifier: { preprocess: rescale, threshold: 0.5, run: async (_, n) => new Float32Array(n).fill(0.9) },
      segmenter: {
        preprocess: { ...rescale, neighbours: 1 },
        postprocess: { threshold: 0.5, minComponentArea: 0, largest3DComponent: false, tta: 'none' },
        run: async (input, n) => {
          assert.equal(input.length, n * 9 * PIXELS);
          for (let k = 0; k < n; k++)
            seen.push([0, 1, 2].map((q) => Math.round(input[(k * 9 + q * 3) * PIXELS]! * 255)));
          return new Float32Array(n * PIXELS);
        },
      },
    };
    const out = await twoStageVolume(models, { depth, rgb: () => rgb }, { batch: 3 });
    assert.deepEqual(seen, [
      [10, 10, 20],
      [10, 20, 30],
      [20, 30, 40],
      [30, 40, 40],
    ]);
    assert.deepEqual(out.volumeSteps, [
      "segmenter input stacks ±1 neighbouring slice across the patient's slices (a slice's result depends on the others given with it)",
    ]);
  });
});

describe('the two stages overlapped', () => {
  // Slice:          0    1    2    3    4    5    6
  const classifier = [0.9, 0.2, 0.6, 0.7, 0.8, 0.1, 0.95];
  const segmenter = [0.8, 0.9, 0.2, 0.7, 0.6, 0.1, 0.9];

  /** The stand-ins answering on a later turn of the event loop, as onnxruntime does, with a log of their calls. */
  function slowed(models: TwoStageModels, log: string[]): TwoStageModels {
    const later =
      (name: string, run: (x: Float32Array, n: number) => Promise<Float32Array>) =>
      async (x: Float32Array, n: number) => {
        log.push(`${name} start`);
        await new Promise((r) => setImmediate(r));
        const out = await run(x, n);
        log.push(`${name} end`);
        return out;
      };
    return {
      classifier: { ...models.classifier, run: later('classifier', models.classifier.run) },
      segmenter: { ...models.segmenter, run: later('segmenter', models.segmenter.run) },
    };
  }

  for (const tta of ['none', 'flips'] as const) {
    it(`segments called slices while the classifier goes on, with the same outcome (TTA ${tta})`, async () => {
      const { models, volume } = setUp(classifier, segmenter, {
        tta,
        largest3DComponent: true,
        threshold: 0.1,
      });
      const sequentialLog: string[] = [];
      const want = await twoStageVolume(slowed(models, sequentialLog), volume, {
        batch: 2,
        keepProbabilities: true,
      });
      const log: string[] = [];
      const got = await twoStageVolume(slowed(models, log), volume, {
        batch: 2,
        keepProbabilities: true,
        overlapStages: true,
      });
      assert.deepEqual(got, want);
      // Segmented: the slices the classifier called, and only those.
      assert.deepEqual(
        got.probabilities!.map((p) => p !== null),
        classifier.map((p) => p >= 0.5),
      );
      assert.ok(masked(got.final, classifier.length).some((m) => m));
      // Without overlap the segmenter starts after the last classifier batch; with it, before.
      const lastClassifier = (l: string[]) => l.lastIndexOf('classifier end');
      assert.ok(sequentialLog.indexOf('segmenter start') > lastClassifier(sequentialLog));
      assert.ok(log.indexOf('segmenter start') < lastClassifier(log), log.join(', '));
      // The same number of segmenter calls, on the same batches.
      const calls = (l: string[]) => l.filter((e) => e === 'segmenter start').length;
      assert.equal(calls(log), calls(sequentialLog));
    });
  }

  it('keeps the usual order where a slice is called on more than its own score', async () => {
    const { models, volume } = setUp(classifier, segmenter);
    const log: string[] = [];
    const fusion = { detector: 'classifier' as const, sliceRadius: 1, threshold: 0.5 };
    await twoStageVolume(slowed(models, log), volume, { batch: 2, fusion, overlapStages: true });
    assert.ok(log.indexOf('segmenter start') > log.lastIndexOf('classifier end'));
  });

  it('stops both stages when a batch is refused, and says why', async () => {
    const { models, volume } = setUp(classifier, segmenter);
    let batches = 0;
    await assert.rejects(
      twoStageVolume(slowed(models, []), volume, {
        batch: 2,
        overlapStages: true,
        beforeBatch: () => {
          if (++batches === 4) throw new Error('shutting down');
        },
      }),
      /shutting down/,
    );
  });
});
