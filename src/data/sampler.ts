// Which slices an epoch visits, in what order: all of them shuffled; class-balanced (as many tumour as
// tumour-free draws on average, for the stage-1 classifier); tumour-oversampling (tumour slices drawn `factor`
// times as often, for the stage-2 segmenter); or tumour slices only (the reference design's segmenter).
import { z } from 'zod';
import { type Rng, shuffled } from './random.ts';

export const samplingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('uniform') }),
  z.object({ kind: z.literal('class-balanced') }),
  z.object({ kind: z.literal('tumour-oversampling'), factor: z.number().min(1) }),
  z.object({ kind: z.literal('tumour-only') }),
]);

export type SamplingConfig = z.infer<typeof samplingSchema>;

/** Relative draw weight of each slice (0 = never). */
export function samplingWeights(positive: ArrayLike<boolean>, config: SamplingConfig): Float64Array {
  const n = positive.length;
  let positives = 0;
  for (let i = 0; i < n; i++) if (positive[i]) positives++;
  const negatives = n - positives;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const pos = positive[i]!;
    switch (config.kind) {
      case 'uniform':
        w[i] = 1;
        break;
      case 'class-balanced':
        // Each class gets half the total weight; a class that is absent leaves everything to the other.
        w[i] = pos
          ? negatives > 0
            ? 0.5 / positives
            : 1 / positives
          : positives > 0
            ? 0.5 / negatives
            : 1 / negatives;
        break;
      case 'tumour-oversampling':
        w[i] = pos ? config.factor : 1;
        break;
      case 'tumour-only':
        w[i] = pos ? 1 : 0;
        break;
    }
  }
  return w;
}

/**
 * One epoch's slice indices. 'uniform' and 'tumour-only' visit every eligible slice once in a seeded shuffle;
 * the weighted kinds draw `length` (default: all slices) with replacement.
 */
export function epochIndices(
  positive: ArrayLike<boolean>,
  config: SamplingConfig,
  rng: Rng,
  length?: number,
): Uint32Array {
  const weights = samplingWeights(positive, config);
  if (config.kind === 'uniform' || config.kind === 'tumour-only') {
    const eligible: number[] = [];
    weights.forEach((w, i) => {
      if (w > 0) eligible.push(i);
    });
    if (eligible.length === 0) throw new RangeError(`sampling '${config.kind}' has no eligible slices`);
    const order = shuffled(eligible, rng);
    return Uint32Array.from(length === undefined ? order : order.slice(0, length));
  }
  const cumulative = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => {
    sum += w;
    cumulative[i] = sum;
  });
  if (!(sum > 0)) throw new RangeError('no slice has a positive sampling weight');
  const out = new Uint32Array(length ?? weights.length);
  for (let k = 0; k < out.length; k++) {
    const target = rng.next() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    out[k] = lo;
  }
  return out;
}

/**
 * One rank's share of an epoch in data-parallel training (PyTorch's DistributedSampler, cut by batch): the epoch's
 * order is taken in global batches of `globalBatch` slices, and rank r takes the r-th of the `worldSize` equal
 * runs of each. The shares are disjoint, and side by side, step by step, they are the single-process epoch.
 * A last partial global batch is dropped, as single-process training drops a partial batch.
 */
export function rankShare(
  order: ArrayLike<number>,
  globalBatch: number,
  rank: number,
  worldSize: number,
): Uint32Array {
  if (
    !Number.isInteger(worldSize) ||
    worldSize < 1 ||
    !Number.isInteger(rank) ||
    rank < 0 ||
    rank >= worldSize
  )
    throw new RangeError(`rank ${rank} is not one of ${worldSize} ranks`);
  if (!Number.isInteger(globalBatch) || globalBatch < 1 || globalBatch % worldSize !== 0)
    throw new RangeError(`a batch of ${globalBatch} does not split into ${worldSize} equal parts`);
  const local = globalBatch / worldSize;
  const steps = Math.floor(order.length / globalBatch);
  const out = new Uint32Array(steps * local);
  for (let s = 0; s < steps; s++)
    for (let k = 0; k < local; k++) out[s * local + k] = order[s * globalBatch + rank * local + k]!;
  return out;
}
