// Buda's U-Net (src/models/unet.ts) as ONNX nodes, mirroring its forward: conv-BN-ReLU blocks (folded), 2×
// max-pooling, transposed-conv upsampling, skip concatenations, 1×1 output conv.
import type { UNet } from '../../models/unet.ts';
import type { GraphBuilder } from './graph-builder.ts';
import { concat, conv, convTranspose, maxPool } from './layers.ts';
import { emitSequential } from './sequential.ts';

/** Emits the network and returns the logits value [N, outChannels, H, W]. */
export function emitUNet(g: GraphBuilder, x: string, net: UNet): string {
  const skips: string[] = [];
  let h = x;
  net.encoders.forEach((encoder, i) => {
    const e = emitSequential(g, `encoder${i + 1}`, h, encoder);
    skips.push(e);
    h = maxPool(g, `pool${i + 1}`, e, net.pool.kernelSize, net.pool.options.stride);
  });
  h = emitSequential(g, 'bottleneck', h, net.bottleneck);
  net.upconvs.forEach((up, i) => {
    const level = net.upconvs.length - i;
    const upsampled = convTranspose(g, `upconv${level}`, h, up);
    const joined = concat(g, `decoder${level}.concat`, [upsampled, skips[skips.length - 1 - i]!]);
    h = emitSequential(g, `decoder${level}`, joined, net.decoders[i]!);
  });
  return conv(g, 'conv', h, net.conv);
}
