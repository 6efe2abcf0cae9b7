// Engine modules as ONNX nodes (eval mode): each emitter takes the builder, the module and its input value and
// returns its output value. Names follow the module's state-dict path so the graph reads like the model.
import type { BatchNorm2d, Conv2d, ConvTranspose2d, Linear } from '../../engine/index.ts';
import { foldConvBatchNorm } from './fold-batchnorm.ts';
import type { GraphBuilder } from './graph-builder.ts';
import type { Attribute } from './onnx-model.ts';
import { float32Data } from './weights.ts';

type Pair = number | [number, number];
const pair = (v: Pair | undefined, fallback: number): [number, number] =>
  v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : v;

function convAttributes(
  kernel: Pair,
  o: { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number },
): Attribute[] {
  const [ph, pw] = pair(o.padding, 0);
  return [
    { name: 'kernel_shape', kind: 'ints', value: pair(kernel, 1) },
    { name: 'strides', kind: 'ints', value: pair(o.stride, 1) },
    // ONNX pads are [top, left, bottom, right]; torch pads symmetrically.
    { name: 'pads', kind: 'ints', value: [ph, pw, ph, pw] },
    { name: 'dilations', kind: 'ints', value: pair(o.dilation, 1) },
    { name: 'group', kind: 'int', value: o.groups ?? 1 },
  ];
}

/** Conv2d, with the BatchNorm2d that follows it folded in when given. */
export function conv(g: GraphBuilder, name: string, x: string, c: Conv2d, bn?: BatchNorm2d): string {
  let weight: Float32Array;
  let bias: Float32Array | null;
  // A network prepared for inference (foldBatchNorms) has the batch norm in the conv's weights already.
  if (bn && !bn.isFused) ({ weight, bias } = foldConvBatchNorm(c, bn));
  else {
    weight = float32Data(c.weight);
    bias = c.bias ? float32Data(c.bias) : null;
  }
  const inputs = [x, g.initializer(`${name}.weight`, c.weight.shape, weight)];
  if (bias) inputs.push(g.initializer(`${name}.bias`, [c.outChannels], bias));
  return g.op('Conv', inputs, name, convAttributes(c.kernelSize, c.options));
}

/** ConvTranspose2d (ONNX's weight layout [in, out/groups, kh, kw] is torch's). */
export function convTranspose(g: GraphBuilder, name: string, x: string, c: ConvTranspose2d): string {
  const inputs = [x, g.initializer(`${name}.weight`, c.weight.shape, float32Data(c.weight))];
  if (c.bias) inputs.push(g.initializer(`${name}.bias`, [c.outChannels], float32Data(c.bias)));
  const [oh, ow] = pair(c.options.outputPadding, 0);
  return g.op('ConvTranspose', inputs, name, [
    ...convAttributes(c.kernelSize, c.options),
    { name: 'output_padding', kind: 'ints', value: [oh, ow] },
  ]);
}

/** A batch norm that cannot be folded into a conv (it follows a ReLU or a concatenation): eval-mode BN. */
export function batchNorm(g: GraphBuilder, name: string, x: string, bn: BatchNorm2d): string {
  if (bn.isFused) return x; // folded into the conv before it by foldBatchNorms
  if (!bn.runningMean || !bn.runningVar) {
    throw new Error(`ONNX export: ${name} has no running statistics, so no eval-mode form`);
  }
  const n = [bn.numFeatures];
  const inputs = [
    x,
    g.initializer(`${name}.weight`, n, bn.weight ? float32Data(bn.weight) : new Float32Array(n[0]!).fill(1)),
    g.initializer(`${name}.bias`, n, bn.bias ? float32Data(bn.bias) : new Float32Array(n[0]!)),
    g.initializer(`${name}.running_mean`, n, float32Data(bn.runningMean)),
    g.initializer(`${name}.running_var`, n, float32Data(bn.runningVar)),
  ];
  return g.op('BatchNormalization', inputs, name, [{ name: 'epsilon', kind: 'float', value: bn.eps }]);
}

export function linear(g: GraphBuilder, name: string, x: string, l: Linear): string {
  const inputs = [x, g.initializer(`${name}.weight`, l.weight.shape, float32Data(l.weight))];
  if (l.bias) inputs.push(g.initializer(`${name}.bias`, [l.outFeatures], float32Data(l.bias)));
  return g.op('Gemm', inputs, name, [{ name: 'transB', kind: 'int', value: 1 }]);
}

export const relu = (g: GraphBuilder, name: string, x: string): string => g.op('Relu', [x], name);

export function maxPool(
  g: GraphBuilder,
  name: string,
  x: string,
  kernel: Pair,
  stride?: Pair,
  padding = 0,
): string {
  return g.op('MaxPool', [x], name, [
    { name: 'kernel_shape', kind: 'ints', value: pair(kernel, 1) },
    { name: 'strides', kind: 'ints', value: pair(stride ?? kernel, 1) },
    { name: 'pads', kind: 'ints', value: [padding, padding, padding, padding] },
  ]);
}

export function avgPool(g: GraphBuilder, name: string, x: string, kernel: Pair, stride?: Pair): string {
  return g.op('AveragePool', [x], name, [
    { name: 'kernel_shape', kind: 'ints', value: pair(kernel, 1) },
    { name: 'strides', kind: 'ints', value: pair(stride ?? kernel, 1) },
  ]);
}

/** torch's interpolate(mode='nearest') by an integer factor: source pixel floor(dst / factor). */
export function upsampleNearest(g: GraphBuilder, name: string, x: string, factor: number): string {
  const scales = g.initializer(`${name}.scales`, [4], Float32Array.from([1, 1, factor, factor]));
  return g.op('Resize', [x, '', scales], name, [
    { name: 'mode', kind: 'string', value: 'nearest' },
    { name: 'coordinate_transformation_mode', kind: 'string', value: 'asymmetric' },
    { name: 'nearest_mode', kind: 'string', value: 'floor' },
  ]);
}

export const concat = (g: GraphBuilder, name: string, xs: readonly string[]): string =>
  g.op('Concat', xs, name, [{ name: 'axis', kind: 'int', value: 1 }]);
