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
  /** Set by Conv2d.fuseBatchNorm: the conv before it applies this normalisation, so forward is the identity. */
  #fused = false;

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

  /** Marks this layer as folded into the preceding convolution (inference only; see Conv2d.fuseBatchNorm). */
  markFused(): void {
    this.#fused = true;
  }

  get isFused(): boolean {
    return this.#fused;
  }

  forward(x: Tensor): Tensor {
    if (this.#fused) {
      if (this.training)
        throw new Error('BatchNorm2d: folded into a convolution for inference; cannot train');
      return x;
    }
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
