// One training epoch, shared by both stages: the epoch's slice order (seeded sampling), batches cut from the
// cache with augmentation, forward, loss, backward, optimiser step, progress. What the loss is belongs to the
// stage. In data-parallel training each rank takes its share of every batch (see DataParallel).
import type { AugmentConfig } from '../data/augment.ts';
import { assembleBatch, type Batch } from '../data/batch.ts';
import type { PreprocessConfig, VolumeStats } from '../data/preprocess.ts';
import { mulberry32, type Rng } from '../data/random.ts';
import { epochIndices, rankShare, type SamplingConfig } from '../data/sampler.ts';
import type { SliceCache } from '../data/slice-cache.ts';
import type { Optimizer, Tensor } from '../engine/index.ts';
import { forEachBatch } from '../inference/batches.ts';
import { NO_PROGRESS, progress } from '../inference/progress.ts';
import type { DataParallel } from './data-parallel.ts';
import { TrainingDivergedError } from './fit.ts';
import { requireBatchSplit, requireInteger } from './training-options.ts';

export interface EpochInputs {
  epoch: number;
  seed: number;
  cache: SliceCache;
  /** Cache indices of the training slices. */
  train: readonly number[];
  sampling: SamplingConfig;
  /** Slices drawn per epoch by the weighted samplers (default: as many as there are training slices). */
  epochLength?: number;
  batch: number;
  preprocess: PreprocessConfig;
  volumeStats: readonly VolumeStats[] | undefined;
  augment: AugmentConfig | null;
  optimizer: Optimizer;
  loss: (batch: Batch) => Tensor;
  log: (line: string) => void;
  /** Data-parallel training: `batch` is the global batch, of which this rank takes batch / world size. */
  parallel?: DataParallel;
}

/** Trains one epoch; returns the mean training loss (over every rank in data-parallel training). */
export function trainEpoch(o: EpochInputs): { train_loss: number } {
  const rng = mulberry32(o.seed * 7919 + o.epoch);
  const positive = Array.from(o.train, (i) => o.cache.tumourPixels[i]! > 0);
  const order = epochIndices(positive, o.sampling, rng, o.epochLength).map((k) => o.train[k]!);
  requireInteger('batch', o.batch, 1);
  const parallel = o.parallel;
  const world = parallel?.worldSize ?? 1;
  requireBatchSplit(o.batch, world);
  const steps = Math.floor(order.length / o.batch); // drop the last partial batch: batch norm needs a real batch
  if (steps === 0)
    throw new Error(`an epoch draws ${order.length} slices, fewer than one batch of ${o.batch}`);
  const mine = parallel
    ? rankShare(order, o.batch, parallel.rank, world)
    : order.subarray(0, steps * o.batch);
  const local = o.batch / world;
  const augmentRng = parallel ? rankStream(rng, parallel.rank) : rng;
  const bar = parallel && !parallel.isRank0 ? NO_PROGRESS : progress(`epoch ${o.epoch} train`, steps, o.log);
  let total = 0;
  // The bar is stopped even when an epoch fails: on a terminal it hides the cursor while it runs.
  try {
    forEachBatch(mine, local, (indices, first) => {
      const batch = assembleBatch(o.cache, indices, {
        preprocess: o.preprocess,
        volumeStats: o.volumeStats,
        ...(o.augment ? { augment: o.augment, rng: augmentRng } : {}),
      });
      o.optimizer.zeroGrad();
      parallel?.syncBuffers();
      const loss = o.loss(batch);
      loss.backward();
      parallel?.averageGradients();
      o.optimizer.step();
      // Every rank sees the same mean, so all stop together if it is not finite.
      const value = parallel ? parallel.mean(loss.item()) : loss.item();
      // Stopped at once: an epoch of NaN updates can take an hour and cannot recover.
      if (!Number.isFinite(value))
        throw new TrainingDivergedError(
          o.epoch,
          'train_loss',
          value,
          `epoch ${o.epoch}, batch ${first / local + 1} of ${steps}`,
        );
      total += value;
      bar.tick({ loss: value });
    });
  } finally {
    bar.stop();
  }
  return { train_loss: total / steps };
}

/** Each rank draws its own augmentations: the (rank + 1)-th generator forked from the epoch's. */
function rankStream(rng: Rng, rank: number): Rng {
  let stream = rng.fork();
  for (let r = 0; r < rank; r++) stream = rng.fork();
  return stream;
}
