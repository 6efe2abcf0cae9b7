// The torch.nn.functional surface: stateless network ops, each one call into libtorch.
import { native } from './native.ts';
import { Tensor } from './tensor.ts';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);
const opt = (t: Tensor | null | undefined) => t?.handle ?? null;

export type Reduction = 'mean' | 'sum' | 'none';

export interface ConvOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/** A convolution's native arguments after the input and weight, PyTorch's defaults filled in. */
function convArgs(bias: Tensor | null | undefined, o: ConvOptions) {
  return [
    opt(bias),
    pair(o.stride ?? 1),
    pair(o.padding ?? 0),
    pair(o.dilation ?? 1),
    o.groups ?? 1,
  ] as const;
}

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  return new Tensor(native.conv2d(x.handle, weight.handle, ...convArgs(bias, o)));
}

/**
 * conv2d straight through oneDNN (libtorch's mkldnn_convolution), bypassing at::conv2d's kernel heuristic, which
 * with one thread and under 16 images runs 1×1 convolutions (and small 3×3 ones at batch 1) on its slower
 * im2col/BLAS path. The same values to float rounding; float32 CPU tensors; for inference (Conv2d.useOnednn).
 */
export function onednnConv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  return new Tensor(native.onednnConv2d(x.handle, weight.handle, ...convArgs(bias, o)));
}

export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  o: ConvOptions & { outputPadding?: Pair } = {},
): Tensor {
  return new Tensor(
    native.convTranspose2d(
      x.handle,
      weight.handle,
      opt(bias),
      pair(o.stride ?? 1),
      pair(o.padding ?? 0),
      pair(o.outputPadding ?? 0),
      o.groups ?? 1,
      pair(o.dilation ?? 1),
    ),
  );
}

export interface BatchNormArgs {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  training: boolean;
  momentum?: number;
  eps?: number;
}

/** Batch norm; in training mode it updates runningMean/runningVar in place, as PyTorch does. */
export function batchNorm(x: Tensor, a: BatchNormArgs): Tensor {
  return new Tensor(
    native.batchNorm(
      x.handle,
      opt(a.weight),
      opt(a.bias),
      opt(a.runningMean),
      opt(a.runningVar),
      a.training,
      a.momentum ?? 0.1,
      a.eps ?? 1e-5,
    ),
  );
}

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(native.linear(x.handle, weight.handle, opt(bias)));
}

export const relu = (x: Tensor): Tensor => new Tensor(native.relu(x.handle));
/** ReLU overwriting x (torch.relu_): for activations nothing else reads, e.g. a batch norm's output. */
export function relu_(x: Tensor): Tensor {
  native.relu_(x.handle);
  return x;
}
export const sigmoid = (x: Tensor): Tensor => new Tensor(native.sigmoid(x.handle));
export const tanh = (x: Tensor): Tensor => new Tensor(native.tanh(x.handle));
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => new Tensor(native.leakyRelu(x.handle, slope));
export const softmax = (x: Tensor, dim: number): Tensor => new Tensor(native.softmax(x.handle, dim));
export const logSoftmax = (x: Tensor, dim: number): Tensor => new Tensor(native.logSoftmax(x.handle, dim));

export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}

export function maxPool2d(x: Tensor, kernel: Pair, o: PoolOptions & { dilation?: Pair } = {}): Tensor {
  return new Tensor(
    native.maxPool2d(
      x.handle,
      pair(kernel),
      pair(o.stride ?? kernel),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      o.ceilMode ?? false,
    ),
  );
}

export function avgPool2d(
  x: Tensor,
  kernel: Pair,
  o: PoolOptions & { countIncludePad?: boolean } = {},
): Tensor {
  return new Tensor(
    native.avgPool2d(
      x.handle,
      pair(kernel),
      pair(o.stride ?? kernel),
      pair(o.padding ?? 0),
      o.ceilMode ?? false,
      o.countIncludePad ?? true,
    ),
  );
}

export function adaptiveAvgPool2d(x: Tensor, size: Pair): Tensor {
  return new Tensor(native.adaptiveAvgPool2d(x.handle, pair(size)));
}

export interface InterpolateOptions {
  size?: Pair;
  scaleFactor?: number;
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}

/** Resizes the last two dimensions of an NCHW tensor (upsampling or downsampling). */
export function interpolate(x: Tensor, o: InterpolateOptions): Tensor {
  let size: [number, number];
  if (o.size !== undefined) size = pair(o.size);
  else if (o.scaleFactor !== undefined) {
    size = [Math.floor(x.size(-2) * o.scaleFactor), Math.floor(x.size(-1) * o.scaleFactor)];
  } else throw new Error('interpolate: give size or scaleFactor');
  return new Tensor(native.interpolate(x.handle, size, o.mode ?? 'nearest', o.alignCorners ?? false));
}

export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return new Tensor(native.dropout(x.handle, p, training));
}

/** Pads the last dimensions: pads = [left, right, top, bottom] as in torch.nn.functional.pad. */
export function pad(
  x: Tensor,
  pads: number[],
  mode: 'constant' | 'reflect' | 'replicate' = 'constant',
  value = 0,
): Tensor {
  return new Tensor(native.pad(x.handle, pads, mode, value));
}

/** Sampling grid for a batch of 2×3 affine matrices (torch.nn.functional.affine_grid). */
export function affineGrid(theta: Tensor, size: readonly number[], alignCorners = false): Tensor {
  return new Tensor(native.affineGrid(theta.handle, [...size], alignCorners));
}

export function gridSample(
  x: Tensor,
  grid: Tensor,
  o: {
    mode?: 'bilinear' | 'nearest';
    padding?: 'zeros' | 'border' | 'reflection';
    alignCorners?: boolean;
  } = {},
): Tensor {
  return new Tensor(
    native.gridSample(
      x.handle,
      grid.handle,
      o.mode ?? 'bilinear',
      o.padding ?? 'zeros',
      o.alignCorners ?? false,
    ),
  );
}

// ----- losses -----

/** Cross-entropy over logits [N, C, ...] and int64 class targets [N, ...], with optional class weights. */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; reduction?: Reduction; labelSmoothing?: number } = {},
): Tensor {
  return new Tensor(
    native.crossEntropy(
      logits.handle,
      target.handle,
      opt(o.weight),
      o.reduction ?? 'mean',
      o.labelSmoothing ?? 0,
    ),
  );
}

export function bceWithLogits(
  logits: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  return new Tensor(
    native.bceWithLogits(
      logits.handle,
      target.handle,
      opt(o.weight),
      opt(o.posWeight),
      o.reduction ?? 'mean',
    ),
  );
}

export function mseLoss(a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor {
  return new Tensor(native.mseLoss(a.handle, b.handle, reduction));
}

export function nllLoss(
  logProbs: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  return new Tensor(native.nllLoss(logProbs.handle, target.handle, opt(o.weight), o.reduction ?? 'mean'));
}
