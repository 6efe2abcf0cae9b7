// The networks' outputs on libtorch: P(tumour) from the classifier's 2-way softmax head and the segmenter's
// probability maps, as functions of preprocessed input (what the two-stage core's runners call) and batched over
// the slices of a cache (training's validation and the choice of post-processing).
import { assembleBatch } from '../data/batch.ts';
import {
  inputChannels,
  type PreprocessConfig,
  preprocessSlices,
  type VolumeStats,
} from '../data/preprocess.ts';
import type { SliceCache } from '../data/slice-cache.ts';
import { F, type Module, noGrad, type Tensor, tensor, tidy } from '../engine/index.ts';
import { probabilitiesWithTtaSync, type TtaMode } from '../postprocess/index.ts';
import { batchesOf } from './batch-size.ts';
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

/** P(tumour) of each image of a batch [N, C, H, W]: column 1 of the softmax of the 2-way head. */
function tumourProbabilities(model: Module, images: Tensor): Float32Array {
  return F.softmax(model.forward(images), 1).select(1, 1).contiguous().toFloat32();
}

/** sigmoid(logits) of a segmenter, [N, H, W] flattened. */
function probabilityMaps(model: Module, images: Tensor): Float32Array {
  return F.sigmoid(model.forward(images)).contiguous().toFloat32();
}

/**
 * A network as the two-stage core calls it: preprocessed planar input [n, C, H, W] (C = inputChannels) in, P(tumour) per slice
 * (classifier) or probability maps (segmenter) out. The input is laid out channels-last, as the training batches
 * are, so that the convolutions (and so the outputs) are the same whichever path a slice takes. Puts the model
 * in eval mode; records no gradients.
 */
export function libtorchNetwork(
  model: Module,
  kind: 'classifier' | 'segmenter',
  preprocess: PreprocessConfig,
): (input: Float32Array, n: number) => Promise<Float32Array> {
  const run = libtorchNetworkSync(model, kind, preprocess);
  return async (input, n) => run(input, n);
}

/** libtorchNetwork answering at once, for training's synchronous loops. */
export function libtorchNetworkSync(
  model: Module,
  kind: 'classifier' | 'segmenter',
  preprocess: PreprocessConfig,
): (input: Float32Array, n: number) => Float32Array {
  const { width, height } = preprocess;
  const channels = inputChannels(preprocess);
  model.eval();
  const output = kind === 'classifier' ? tumourProbabilities : probabilityMaps;
  // A network converted to bfloat16 (toBfloat16) takes its input in its weights' type; outputs come back float32.
  const dtype = model.parameters()[0]?.dtype ?? 'float32';
  const input = (x: Float32Array, n: number) => {
    const t = tensor(x, [n, channels, height, width]);
    return (dtype === 'float32' ? t : t.to(dtype)).contiguous('channels_last');
  };
  return (x, n) => noGrad(() => tidy(() => output(model, input(x, n))));
}

/** P(tumour) per slice of the cache. */
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
      scores.set(tumourProbabilities(model, images), first);
    }),
  );
  return scores;
}

/** Tumour probability maps (H×W per slice, concatenated) of slices of the cache, with the given flip TTA. */
export function segmenterProbabilities(model: Module, o: InferenceInputs & { tta: TtaMode }): Float32Array {
  const { cache, preprocess } = o;
  const { width, height } = cache;
  if (preprocess.width !== width || preprocess.height !== height) {
    throw new RangeError(
      `cache is ${width}×${height} but the preprocessing wants ${preprocess.width}×${preprocess.height}`,
    );
  }
  const run = libtorchNetworkSync(model, 'segmenter', preprocess);
  const volumeOf = (i: number) => cache.patientIndex[i]!;
  const statsOf = (i: number) => o.volumeStats?.[volumeOf(i)];
  const probs = new Float32Array(o.indices.length * width * height);
  let at = 0;
  for (const batch of batchesOf(o.indices, o.batchSize)) {
    o.beforeBatch?.();
    const input = preprocessSlices(cache.images, batch, preprocess, statsOf, volumeOf);
    probs.set(probabilitiesWithTtaSync(run, input, batch.length, height, width, o.tta), at * width * height);
    at += batch.length;
  }
  return probs;
}
