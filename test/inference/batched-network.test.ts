// The shared network of predictions that run at once (the server's worker): concurrent calls become one network
// batch, each caller gets its own rows, the batch stays within its slice limit, a failure reaches every caller of
// its batch, and whole predictions running together through it answer exactly as they do one by one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESCALE_256 } from '../../src/data/preprocess.ts';
import { batchedNetwork, type Network } from '../../src/inference/batched-network.ts';
import { predictSlices, type SliceInput } from '../../src/inference/predict-slices.ts';
import type { TwoStageModels } from '../../src/inference/two-stage.ts';
import { NO_POSTPROCESS } from '../../src/postprocess/config.ts';

const SIZE = 8;
const PLANE = SIZE * SIZE;

/**
 * A network in plain arithmetic that treats each slice on its own, as an inference network does: a pixel's
 * probability is a squashed mix of its three channels; the slice's score the mean of its first plane. It records
 * the batch sizes it was called with.
 */
function fakeNetwork(kind: 'classifier' | 'segmenter'): Network & { batches: number[] } {
  const batches: number[] = [];
  const run = (async (input: Float32Array, n: number) => {
    batches.push(n);
    const out = new Float32Array(kind === 'classifier' ? n : n * PLANE);
    for (let k = 0; k < n; k++) {
      const slice = input.subarray(k * 3 * PLANE, (k + 1) * 3 * PLANE);
      if (kind === 'classifier') {
        let sum = 0;
        for (let p = 0; p < PLANE; p++) sum += slice[p]!;
        out[k] = 1 / (1 + Math.exp(-4 * (sum / PLANE - 0.3)));
      } else {
        for (let p = 0; p < PLANE; p++) {
          const x = 2 * slice[p]! - slice[PLANE + p]! + 0.5 * slice[2 * PLANE + p]!;
          out[k * PLANE + p] = 1 / (1 + Math.exp(-6 * (x - 0.4)));
        }
      }
    }
    return out;
  }) as Network & { batches: number[] };
  run.batches = batches;
  return run;
}

const input = (n: number, seed: number) =>
  Float32Array.from({ length: n * 3 * PLANE }, (_, i) => ((i * 7 + seed * 13) % 17) / 17);

describe('batchedNetwork', () => {
  it('joins calls made at once into one batch and gives each caller its own rows', async () => {
    const inner = fakeNetwork('segmenter');
    const shared = batchedNetwork(inner, 8);
    const calls = [input(1, 1), input(2, 2), input(1, 3)];
    const got = await Promise.all(calls.map((x, k) => shared(x, k === 1 ? 2 : 1)));
    assert.deepEqual(inner.batches, [4]);
    const alone = fakeNetwork('segmenter');
    for (const [k, x] of calls.entries()) assert.deepEqual(got[k], await alone(x, k === 1 ? 2 : 1));
    assert.deepEqual(shared.stats, { networkCalls: 1, calls: 3 });
  });

  it('keeps each batch within its slice limit, whole calls in arrival order; a larger call runs alone', async () => {
    const inner = fakeNetwork('classifier');
    const shared = batchedNetwork(inner, 3);
    const sizes = [1, 1, 2, 5, 1, 1];
    const got = await Promise.all(sizes.map((n, k) => shared(input(n, k), n)));
    assert.deepEqual(inner.batches, [2, 2, 5, 2]);
    const alone = fakeNetwork('classifier');
    for (const [k, n] of sizes.entries()) assert.deepEqual(got[k], await alone(input(n, k), n));
  });

  it('rejects every caller of a batch that fails, and goes on with the next batch', async () => {
    let fail = true;
    const shared = batchedNetwork(async (x, n) => {
      if (fail) {
        fail = false;
        throw new Error('out of memory');
      }
      return new Float32Array(n).fill(x[0]!);
    }, 2);
    const results = await Promise.allSettled([
      shared(input(1, 0), 1),
      shared(input(1, 1), 1),
      shared(input(1, 2), 1),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[0] as PromiseRejectedResult).reason), /out of memory/);
  });

  it('refuses a limit that is not a whole number ≥ 1', () => {
    assert.throws(() => batchedNetwork(fakeNetwork('classifier'), 0), /integer ≥ 1/);
  });

  it('answers predictions running together as it answers them one by one', async () => {
    const runners = (wrap: (n: Network) => Network): TwoStageModels => ({
      classifier: { preprocess: PREPROCESS, threshold: 0.5, run: wrap(fakeNetwork('classifier')) },
      segmenter: {
        preprocess: PREPROCESS,
        postprocess: { ...NO_POSTPROCESS, threshold: 0.5, tta: 'flips' },
        run: wrap(fakeNetwork('segmenter')),
      },
    });
    // Three requests: two single slices and a patient of five, as the server's worker gets them.
    const requests = [
      patient('TCGA_AA_0001_20000101', 1, 1),
      patient('TCGA_BB_0002_20000101', 1, 2),
      patient('TCGA_CC_0003_20000101', 5, 3),
    ];
    const oneByOne = runners((n) => n);
    const want = [];
    for (const r of requests) want.push(await predictSlices(oneByOne, r, { batch: 4 }));
    let shared: ReturnType<typeof batchedNetwork> | undefined;
    const together = runners((n) => {
      const b = batchedNetwork(n, 4);
      shared ??= b;
      return b;
    });
    const got = await Promise.all(requests.map((r) => predictSlices(together, r, { batch: 4 })));
    assert.deepEqual(got, want);
    assert.ok(
      want.some((p) => p.slices.some((s) => s.tumour)),
      'some slice is called tumour',
    );
    // The classifier's calls were shared: fewer network calls than callers.
    assert.ok(shared!.stats.networkCalls < shared!.stats.calls, JSON.stringify(shared!.stats));
  });
});

const PREPROCESS = { ...RESCALE_256, width: SIZE, height: SIZE };

/** A patient of `n` slices of SIZE×SIZE RGB, bright enough in places to be called tumour. */
function patient(id: string, n: number, seed: number): SliceInput[] {
  return Array.from({ length: n }, (_, k) => {
    const data = Uint8Array.from({ length: PLANE * 3 }, (_, i) => ((i * (seed + 3) + k * 41) * 37) % 256);
    return {
      name: `${id}_${k + 1}.tif`,
      patient: id,
      sliceNumber: k + 1,
      image: { width: SIZE, height: SIZE, channels: 3, data, sourceBits: 8 },
    };
  });
}
