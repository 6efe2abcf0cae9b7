// Eval-mode batch norm as a per-channel affine map, and folded into the convolution before it: y = BN(W∗x + b)
// = (s·W)∗x + s·(b − mean) + beta with s = gamma / √(var + eps). Computed in float64, stored as float32.
import type { BatchNorm2d, Conv2d } from '../../engine/index.ts';
import { float32Data } from './weights.ts';

export interface ChannelAffine {
  scale: Float64Array;
  shift: Float64Array;
}

/** BN(x) = scale·x + shift per channel, from the running statistics (eval mode). */
export function batchNormAffine(bn: BatchNorm2d): ChannelAffine {
  if (!bn.runningMean || !bn.runningVar) {
    throw new Error('ONNX export: a BatchNorm2d without running statistics has no eval-mode form');
  }
  const mean = float32Data(bn.runningMean);
  const variance = float32Data(bn.runningVar);
  const gamma = bn.weight ? float32Data(bn.weight) : null;
  const beta = bn.bias ? float32Data(bn.bias) : null;
  const n = bn.numFeatures;
  const scale = new Float64Array(n);
  const shift = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    scale[c] = (gamma ? gamma[c]! : 1) / Math.sqrt(variance[c]! + bn.eps);
    shift[c] = (beta ? beta[c]! : 0) - mean[c]! * scale[c]!;
  }
  return { scale, shift };
}

/** A Conv2d's weight and bias with the following BatchNorm2d folded in (bias always present after folding). */
export function foldConvBatchNorm(
  conv: Conv2d,
  bn: BatchNorm2d,
): { weight: Float32Array; bias: Float32Array } {
  const w = float32Data(conv.weight);
  const b = conv.bias ? float32Data(conv.bias) : null;
  const { scale, shift } = batchNormAffine(bn);
  const out = conv.outChannels;
  if (bn.numFeatures !== out) {
    throw new Error(`ONNX export: BatchNorm2d(${bn.numFeatures}) after a conv with ${out} outputs`);
  }
  const perOut = w.length / out;
  const weight = new Float32Array(w.length);
  const bias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const s = scale[o]!;
    for (let i = 0; i < perOut; i++) weight[o * perOut + i] = w[o * perOut + i]! * s;
    bias[o] = (b ? b[o]! : 0) * s + shift[o]!;
  }
  return { weight, bias };
}
