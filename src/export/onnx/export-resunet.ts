// ResUNet (src/models/resunet.ts) as ONNX nodes, mirroring its forward. Residual blocks are conv-BN pairs, all
// folded; the stem's batch norms follow a ReLU (conv → ReLU → BN), so they stay BN nodes.
import { BatchNorm2d, Conv2d, type Module } from '../../engine/index.ts';
import type { ResUNet } from '../../models/resunet.ts';
import type { GraphBuilder } from './graph-builder.ts';
import { batchNorm, concat, conv, maxPool, relu, upsampleNearest } from './layers.ts';
import { child } from './sequential.ts';

function residualBlock(g: GraphBuilder, prefix: string, x: string, block: Module): string {
  let main = conv(g, `${prefix}.conv1`, x, child(block, 'conv1', Conv2d), child(block, 'bn1', BatchNorm2d));
  main = relu(g, `${prefix}.relu1`, main);
  main = conv(g, `${prefix}.conv2`, main, child(block, 'conv2', Conv2d), child(block, 'bn2', BatchNorm2d));
  const skip = conv(
    g,
    `${prefix}.shortcut`,
    x,
    child(block, 'shortcut', Conv2d),
    child(block, 'shortcut_bn', BatchNorm2d),
  );
  return relu(g, `${prefix}.relu`, g.op('Add', [main, skip], `${prefix}.add`));
}

function stem(g: GraphBuilder, x: string, s: Module): string {
  let h = relu(g, 'stem.relu1', conv(g, 'stem.conv1', x, child(s, 'conv1', Conv2d)));
  h = batchNorm(g, 'stem.bn1', h, child(s, 'bn1', BatchNorm2d));
  h = relu(g, 'stem.relu2', conv(g, 'stem.conv2', h, child(s, 'conv2', Conv2d)));
  return batchNorm(g, 'stem.bn2', h, child(s, 'bn2', BatchNorm2d));
}

/** Emits the network and returns the logits value [N, outChannels, H, W]. */
export function emitResUNet(g: GraphBuilder, x: string, net: ResUNet): string {
  const skips = [stem(g, x, net.stem)];
  let h = skips[0]!;
  net.encoders.forEach((encoder, i) => {
    const level = i + 1;
    h = residualBlock(g, `encoder${level}`, maxPool(g, `encoder${level}.pool`, h, 2), encoder);
    skips.push(h);
  });
  net.decoders.forEach((decoder, i) => {
    const level = net.decoders.length - i;
    const skip = skips[skips.length - 2 - i]!;
    const up = upsampleNearest(g, `decoder${level}.upsample`, h, 2);
    h = residualBlock(g, `decoder${level}`, concat(g, `decoder${level}.concat`, [up, skip]), decoder);
  });
  return conv(g, 'head', h, net.head);
}
