import { noGrad } from '../autograd.ts';
import { empty } from '../empty.ts';
import * as F from '../functional.ts';
import { keep, release, tidy } from '../scope.ts';
import type { Tensor } from '../tensor.ts';
import type { BatchNorm2d } from './batchnorm.ts';
import { fans, kaimingUniform_, uniform_ } from './init.ts';
import { Module } from './module.ts';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  device?: string;
}

/** What Conv2d and ConvTranspose2d share: a weight, an optional bias, and PyTorch's initialisation of both. */
abstract class Convolution extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(weightShape: number[], outChannels: number, options: Conv2dOptions) {
    super();
    this.weight = this.registerParameter('weight', empty(weightShape, options.device));
    this.bias =
      options.bias === false ? null : this.registerParameter('bias', empty([outChannels], options.device));
    resetConvParameters(this.weight, this.bias);
  }
}

/** 2-d convolution; weights [out, in/groups, kh, kw], initialised as PyTorch's Conv2d. */
export class Conv2d extends Convolution {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: Pair,
    readonly options: Conv2dOptions = {},
  ) {
    const [kh, kw] = pair(kernelSize);
    super([outChannels, inChannels / (options.groups ?? 1), kh, kw], outChannels, options);
  }

  #onednn = false;

  /** Whether forward runs through oneDNN directly (useOnednn). */
  get usesOnednn(): boolean {
    return this.#onednn;
  }

  forward(x: Tensor): Tensor {
    if (this.#onednn) {
      if (this.training) throw new Error('Conv2d: prepared for inference (useOnednn), it cannot train');
      return F.onednnConv2d(x, this.weight, this.bias, this.options);
    }
    return F.conv2d(x, this.weight, this.bias, this.options);
  }

  /**
   * For inference: forward calls oneDNN's convolution directly (F.onednnConv2d) instead of at::conv2d, whose
   * heuristic sends 1×1 convolutions (half of DenseNet's) to a slower path with one thread and few images.
   * The same outputs to float rounding; float32 CPU weights only; the module then refuses to run in training mode.
   * `useOnednn(false)` goes back to at::conv2d (which also reaches oneDNN for bfloat16 where the CPU has it).
   */
  useOnednn(on = true): this {
    if (!on) {
      this.#onednn = false;
      return this;
    }
    if (this.weight.dtype !== 'float32' || this.weight.device !== 'cpu') {
      throw new Error(
        `Conv2d.useOnednn: float32 CPU weights only (${this.weight.dtype} on ${this.weight.device})`,
      );
    }
    this.#onednn = true;
    return this;
  }

  /**
   * Folds the eval-mode BatchNorm2d that normalises this convolution's output into its weight and bias, in place:
   * W ← s·W, b ← s·(b − mean) + beta with s = gamma / √(var + eps); the batch norm then passes its input through.
   * For inference only (the batch norm can no longer train); adds a bias parameter when there was none.
   */
  fuseBatchNorm(bn: BatchNorm2d): this {
    if (bn.isFused) throw new Error('Conv2d.fuseBatchNorm: this batch norm is already folded');
    if (!bn.runningMean || !bn.runningVar) {
      throw new Error('Conv2d.fuseBatchNorm: the batch norm has no running statistics');
    }
    if (bn.numFeatures !== this.outChannels) {
      throw new Error(
        `Conv2d.fuseBatchNorm: ${bn.numFeatures} batch-norm channels, ${this.outChannels} outputs`,
      );
    }
    const { runningMean, runningVar } = bn;
    noGrad(() =>
      tidy(() => {
        let scale = runningVar.add(bn.eps).rsqrt();
        if (bn.weight) scale = scale.mul(bn.weight);
        let shift = (this.bias ? this.bias.sub(runningMean) : runningMean.neg()).mul(scale);
        if (bn.bias) shift = shift.add(bn.bias);
        const format = this.weight.isChannelsLast ? 'channels_last' : 'contiguous';
        this.weight.replaceWith(this.weight.mul(scale.reshape(-1, 1, 1, 1)).contiguous(format));
        if (this.bias) this.bias.replaceWith(shift);
        else (this as { bias: Tensor | null }).bias = this.registerParameter('bias', keep(shift));
      }),
    );
    bn.markFused();
    return this;
  }
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: Pair;
}

/** Transposed 2-d convolution; weights [in, out/groups, kh, kw], as PyTorch's ConvTranspose2d. */
export class ConvTranspose2d extends Convolution {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: Pair,
    readonly options: ConvTranspose2dOptions = {},
  ) {
    const [kh, kw] = pair(kernelSize);
    super([inChannels, outChannels / (options.groups ?? 1), kh, kw], outChannels, options);
  }

  forward(x: Tensor): Tensor {
    const y = F.convTranspose2d(x, this.weight, this.bias, this.options);
    // libtorch 1.13 runs transposed convolutions on CPU through its im2col kernel, which returns NCHW whatever
    // the input's layout. Channels-last in, channels-last out, as Conv2d: one copy here, instead of every layer
    // after it (a concatenation, oneDNN's next convolution) reordering its input.
    if (!x.isChannelsLast || y.isChannelsLast) return y;
    return release(y, y.contiguous('channels_last'));
  }
}

// PyTorch's _ConvNd.reset_parameters: kaiming_uniform_(a=√5), bias uniform in ±1/√fan_in.
function resetConvParameters(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const bound = 1 / Math.sqrt(fans(weight).fanIn);
    uniform_(bias, -bound, bound);
  }
}
