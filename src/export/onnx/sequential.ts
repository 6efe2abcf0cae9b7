// A Sequential of standard layers as ONNX nodes, a Conv2d's following BatchNorm2d folded into it. Any other
// module type is refused, so that a model change shows up as an export error rather than a wrong graph.
import {
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Identity,
  Linear,
  MaxPool2d,
  type Module,
  ReLU,
  Sequential,
} from '../../engine/index.ts';
import type { GraphBuilder } from './graph-builder.ts';
import { avgPool, batchNorm, conv, linear, maxPool, relu } from './layers.ts';

type Pair = number | [number, number];
const single = (v: Pair | undefined, what: string): number => {
  if (v === undefined || typeof v === 'number') return v ?? 0;
  if (v[0] !== v[1]) throw new Error(`ONNX export: asymmetric ${what} [${v.join(', ')}] is not supported`);
  return v[0];
};

/** One module (a Sequential is walked); `prefix` is its state-dict path. */
export function emitModule(g: GraphBuilder, prefix: string, x: string, m: Module): string {
  if (m instanceof Sequential) return emitSequential(g, prefix, x, m);
  if (m instanceof Conv2d) return conv(g, prefix, x, m);
  if (m instanceof BatchNorm2d) return batchNorm(g, prefix, x, m);
  if (m instanceof ReLU) return relu(g, prefix, x);
  if (m instanceof Linear) return linear(g, prefix, x, m);
  if (m instanceof Dropout || m instanceof Identity) return x; // identity in eval mode
  if (m instanceof MaxPool2d) {
    if (m.options.ceilMode) throw new Error(`ONNX export: ${prefix}: ceil_mode pooling is not supported`);
    return maxPool(g, prefix, x, m.kernelSize, m.options.stride, single(m.options.padding, 'padding'));
  }
  if (m instanceof AvgPool2d) {
    if (m.options.ceilMode || single(m.options.padding, 'padding') !== 0) {
      throw new Error(`ONNX export: ${prefix}: padded or ceil_mode average pooling is not supported`);
    }
    return avgPool(g, prefix, x, m.kernelSize, m.options.stride);
  }
  throw new Error(`ONNX export: ${prefix || 'model'}: no ONNX mapping for ${m.constructor.name}`);
}

export function emitSequential(g: GraphBuilder, prefix: string, x: string, seq: Sequential): string {
  const children = seq.namedChildren();
  let h = x;
  for (let i = 0; i < children.length; i++) {
    const [name, m] = children[i]!;
    const path = prefix ? `${prefix}.${name}` : name;
    const next = children[i + 1]?.[1];
    if (m instanceof Conv2d && next instanceof BatchNorm2d) {
      h = conv(g, path, h, m, next);
      i++;
    } else h = emitModule(g, path, h, m);
  }
  return h;
}

/** A named child of the expected class (exporters read the model's own structure, checked). */
export function child<T extends Module>(
  parent: Module,
  name: string,
  kind: abstract new (...args: never[]) => T,
): T {
  const found = parent.namedChildren().find(([n]) => n === name)?.[1];
  if (!(found instanceof kind)) {
    throw new Error(`ONNX export: expected a ${kind.name} named ${name} in ${parent.constructor.name}`);
  }
  return found;
}
