// Preparing a network for training on the fastest CPU kernels libtorch has. With channels-last weights every
// activation after the first convolution is channels-last (NHWC) too, and oneDNN's convolutions, forward and
// backward, read and write that layout as it is; on NCHW tensors each of them reorders its input, output and
// gradients into oneDNN's blocked layout and back, which costs more than the convolution itself for 1×1 kernels.
// Batch norm, ReLU, pooling, concatenation and nearest upsampling have channels-last kernels of their own. Which
// convolution kernel runs stays at::conv2d's choice per layer shape: at training batches (16 images, or more than
// one thread) that is oneDNN for every 2-d convolution. The gradients are the same to float rounding.
import { autocast, type Module, type Tensor } from '../engine/index.ts';

export const TRAINING_LAYOUTS = ['channels-last', 'nchw'] as const;
export type TrainingLayout = (typeof TRAINING_LAYOUTS)[number];
/** Measured faster for DenseNet121, ResUNet and U-Net training steps (docs/BENCHMARKS.md). */
export const DEFAULT_TRAINING_LAYOUT: TrainingLayout = 'channels-last';

/**
 * Lays the network's weights out for training in `layout`, in place; call it before building the optimiser, so
 * that its state takes the same layout. Weights saved from the network are row-major whatever the layout.
 */
export function prepareForTraining<M extends Module>(
  network: M,
  layout: TrainingLayout = DEFAULT_TRAINING_LAYOUT,
): M {
  if (layout === 'channels-last') network.toChannelsLast();
  return network;
}

// Mixed precision: bf16 runs the convolutions and matrix products of the forward pass (and so their backward) in
// bfloat16 under CPU autocast, keeping float32 weights, optimiser state, batch-norm statistics and loss. On CPUs
// with bfloat16 instructions (AVX512-BF16, AMX) oneDNN's bfloat16 convolutions are about twice as fast; elsewhere
// they are emulated and slower. It changes the numbers a network learns from, so it is a recipe choice, measured
// by validation, and not the default.
export const TRAINING_PRECISIONS = ['fp32', 'bf16'] as const;
export type TrainingPrecision = (typeof TRAINING_PRECISIONS)[number];
export const DEFAULT_TRAINING_PRECISION: TrainingPrecision = 'fp32';

/** The network's output on a training batch in `precision`, as float32 (the losses need float32's range). */
export function trainingForward(
  network: { forward(x: Tensor): Tensor },
  x: Tensor,
  precision: TrainingPrecision = DEFAULT_TRAINING_PRECISION,
): Tensor {
  return precision === 'bf16' ? autocast(() => network.forward(x)).float() : network.forward(x);
}
