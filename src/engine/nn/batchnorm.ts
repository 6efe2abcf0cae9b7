import { full, ones, zeros } from '../creation.ts';
import * as F from '../functional.ts';
import type { Tensor } from '../tensor.ts';
import { Module } from './module.ts';

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
  device?: string;
}

/**
 * Batch normalisation over N, H, W of an NCHW tensor, as PyTorch's BatchNorm2d: batch statistics in training
 * (updating the running ones in place), running statistics in eval mode. Keys match PyTorch's state dict,
 * num_batches_tracked included.
 */
export class BatchNorm2d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number;

  constructor(
    readonly numFeatures: number,
    options: BatchNormOptions = {},
  ) {
    super();
    const device = options.device === undefined ? {} : { device: options.device };
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const affine = options.affine ?? true;
    this.weight = affine ? this.registerParameter('weight', ones([numFeatures], device)) : null;
    this.bias = affine ? this.registerParameter('bias', zeros([numFeatures], device)) : null;
    const track = options.trackRunningStats ?? true;
    this.runningMean = track ? this.registerBuffer('running_mean', zeros([numFeatures], device)) : null;
    this.runningVar = track ? this.registerBuffer('running_var', ones([numFeatures], device)) : null;
    this.numBatchesTracked = track
      ? this.registerBuffer('num_batches_tracked', full([], 0, { dtype: 'int64', ...device }))
      : null;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4)
      throw new Error(`BatchNorm2d expects an NCHW tensor, got shape [${x.shape.join(', ')}]`);
    if (this.training && this.numBatchesTracked) this.numBatchesTracked.add_(1);
    return F.batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training || this.runningMean === null,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}
