// Batched inference over slices of a cache, shared by validation and (later) evaluation and prediction:
// classifier tumour probabilities, and segmenter probability maps reduced to binary masks.

import { assembleBatch } from '../data/batch.ts';
import type { PreprocessConfig, VolumeStats } from '../data/preprocess.ts';
import type { SliceCache } from '../data/slice-cache.ts';
import { F, type Module, noGrad } from '../engine/index.ts';
import { predictProbabilities, type TtaMode } from '../postprocess/index.ts';
import { forEachBatch } from './batches.ts';

export interface InferenceInputs {
  cache: SliceCache;
  indices: readonly number[];
  preprocess: PreprocessConfig;
  volumeStats?: readonly VolumeStats[];
  batchSize: number;
  /** Called before each batch; throwing from it stops the work there, between batches (a server shutting down). */
  beforeBatch?: () => void;
}

/** P(tumour) per slice, from a 2-way softmax head. */
export function classifierScores(model: Module, o: InferenceInputs): Float32Array {
  const scores = new Float32Array(o.indices.length);
  model.eval();
  noGrad(() =>
    forEachBatch(o.indices, o.batchSize, (batch, first) => {
      o.beforeBatch?.();
      const { images } = assembleBatch(o.cache, batch, {
        preprocess: o.preprocess,
        volumeStats: o.volumeStats,
      });
      const p = F.softmax(model.forward(images), 1).select(1, 1).contiguous().toFloat32();
      scores.set(p, first);
    }),
  );
  return scores;
}

/** Binary masks (0/1, H×W per slice, concatenated) of a segmenter that returns logits, cut at `threshold`. */
export function segmenterMasks(model: Module, o: InferenceInputs & { threshold: number }): Uint8Array {
  const px = o.cache.width * o.cache.height;
  const masks = new Uint8Array(o.indices.length * px);
  model.eval();
  noGrad(() =>
    forEachBatch(o.indices, o.batchSize, (batch, first) => {
      const { images } = assembleBatch(o.cache, batch, {
        preprocess: o.preprocess,
        volumeStats: o.volumeStats,
      });
      const predicted = F.sigmoid(model.forward(images)).ge(o.threshold).to('uint8').contiguous().data();
      masks.set(predicted as Uint8Array, first * px);
    }),
  );
  return masks;
}

/** Tumour probability maps (H×W per slice, concatenated), optionally averaged over flips (test-time augmentation). */
export function segmenterProbabilities(model: Module, o: InferenceInputs & { tta: TtaMode }): Float32Array {
  const px = o.cache.width * o.cache.height;
  const probs = new Float32Array(o.indices.length * px);
  model.eval();
  forEachBatch(o.indices, o.batchSize, (batch, first) => {
    o.beforeBatch?.();
    const { images } = assembleBatch(o.cache, batch, {
      preprocess: o.preprocess,
      volumeStats: o.volumeStats,
    });
    probs.set(predictProbabilities(model, images, o.tta).contiguous().toFloat32(), first * px);
  });
  return probs;
}
