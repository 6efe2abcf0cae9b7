// Preparing a network for training on the fastest CPU kernels libtorch has. With channels-last weights every
// activation after the first convolution is channels-last (NHWC) too, and oneDNN's convolutions, forward and
// backward, read and write that layout as it is; on NCHW tensors each of them reorders its input, output and
// gradients into oneDNN's blocked layout and back, which costs more than the convolution itself for 1×1 kernels.
// Batch norm, ReLU, pooling, concatenation and nearest upsampling have channels-last kernels of their own. Which
// convolution kernel runs stays at::conv2d's choice per layer shape: at training batches (16 images, or more than
// one thread) that is oneDNN for every 2-d convolution. The gradients are the same to float rounding.
import type { Module } from '../engine/index.ts';

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
