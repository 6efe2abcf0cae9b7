// Preparing a trained network for inference only: batch norms folded into the convolutions before them, weights
// laid out channels-last so that oneDNN convolutions skip reordering every input and output, and (on CPU) every
// convolution sent straight to oneDNN instead of at::conv2d's kernel heuristic, which with one thread runs 1×1
// convolutions through a slower im2col/BLAS path. The same outputs (to float rounding), faster on CPU; the
// network can no longer train.
import { Conv2d, type Module } from '../engine/index.ts';
import type { DenseNet } from './densenet.ts';
import type { ResUNet } from './resunet.ts';
import type { UNet } from './unet.ts';

export interface InferenceOptions {
  /** Send every float32 CPU convolution straight to oneDNN (Conv2d.useOnednn); default true. */
  onednn?: boolean;
}

export function optimizeForInference<M extends DenseNet | ResUNet | UNet>(
  network: M,
  options: InferenceOptions = {},
): M {
  network.foldBatchNorms();
  network.toChannelsLast();
  if (options.onednn === false) return network;
  for (const [, m] of network.namedModules()) {
    if (m instanceof Conv2d && m.weight.device === 'cpu' && m.weight.dtype === 'float32') m.useOnednn();
  }
  return network;
}

/**
 * An inference network converted to bfloat16 in place, weights and activations: on CPUs with bfloat16
 * instructions (AVX512-BF16, AMX) oneDNN's convolutions run several times faster; elsewhere libtorch emulates
 * them, slower than float32. Probabilities move by a few hundredths, so a decision chosen on float32 outputs may
 * not hold exactly; inputs must be cast to bfloat16 (libtorchNetwork does it from the weights' type). Convolutions
 * leave the oneDNN-direct path, which takes float32 only, for at::conv2d, which sends bfloat16 to oneDNN itself.
 */
export function toBfloat16<M extends Module>(network: M): M {
  for (const [, m] of network.namedModules()) if (m instanceof Conv2d) m.useOnednn(false);
  network.to('bfloat16');
  return network;
}
