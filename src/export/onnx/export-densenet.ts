// DenseNet (src/models/densenet.ts) as ONNX nodes, mirroring its forward: stem, dense blocks (each layer reads
// the concatenation of every earlier feature map), transitions, final norm + ReLU, global pooling, head.
// conv1 → norm2 and conv0 → norm0 are folded; the pre-activation norms (after a concatenation) stay BN nodes.
import { BatchNorm2d, Conv2d, type Module, Sequential } from '../../engine/index.ts';
import type { DenseNet } from '../../models/densenet.ts';
import type { GraphBuilder } from './graph-builder.ts';
import { batchNorm, concat, conv, relu } from './layers.ts';
import { child, emitModule, emitSequential } from './sequential.ts';

/** Emits the network and returns the logits value [N, numClasses]. */
export function emitDenseNet(g: GraphBuilder, x: string, net: DenseNet): string {
  let h = x;
  for (const [name, m] of net.features.namedChildren()) {
    const path = `features.${name}`;
    if (name === 'conv0') continue; // folded with norm0 below
    if (name === 'norm0') {
      const conv0 = child(net.features, 'conv0', Conv2d);
      h = conv(g, 'features.conv0', h, conv0, child(net.features, 'norm0', BatchNorm2d));
    } else if (name.startsWith('denseblock')) h = emitDenseBlock(g, path, h, m);
    else if (m instanceof Sequential) h = emitSequential(g, path, h, m);
    else h = emitModule(g, path, h, m);
  }
  // embed(): ReLU after norm5, global average pool, flatten.
  h = relu(g, 'features.relu5', h);
  h = g.op('GlobalAveragePool', [h], 'pool');
  h = g.op('Flatten', [h], 'flatten', [{ name: 'axis', kind: 'int', value: 1 }]);
  return emitModule(g, 'classifier', h, net.classifier);
}

function emitDenseBlock(g: GraphBuilder, prefix: string, x: string, block: Module): string {
  const features = [x];
  for (const [name, layer] of block.namedChildren()) {
    const path = `${prefix}.${name}`;
    const joined = features.length === 1 ? x : concat(g, `${path}.input`, features);
    let h = relu(
      g,
      `${path}.relu1`,
      batchNorm(g, `${path}.norm1`, joined, child(layer, 'norm1', BatchNorm2d)),
    );
    h = conv(g, `${path}.conv1`, h, child(layer, 'conv1', Conv2d), child(layer, 'norm2', BatchNorm2d));
    h = relu(g, `${path}.relu2`, h);
    // Dropout between layers is the identity in eval mode.
    features.push(conv(g, `${path}.conv2`, h, child(layer, 'conv2', Conv2d)));
  }
  return concat(g, `${prefix}.output`, features);
}
