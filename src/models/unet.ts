// The U-Net of Buda et al. (mateuszbuda/brain-segmentation-pytorch): four encoder blocks of two 3×3 conv-BN-ReLU
// (features, 2×, 4×, 8×), a 16× bottleneck, transposed-conv upsampling with skip connections, and a 1×1 output
// conv. With features = 32: 7,763,041 parameters. Returns logits; apply a sigmoid for probabilities.
import {
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  cat,
  MaxPool2d,
  Module,
  ReLU,
  release,
  Sequential,
  type Tensor,
} from '../engine/index.ts';

export interface UNetConfig {
  inChannels: number;
  outChannels: number;
  /** Filters of the first encoder block; each level doubles them. */
  features: number;
  /** Encoder levels (Buda et al.: 4). */
  depth: number;
}

export const BUDA_UNET: UNetConfig = { inChannels: 3, outChannels: 1, features: 32, depth: 4 };

function block(inC: number, outC: number, name: string): Sequential {
  return new Sequential([
    [`${name}conv1`, new Conv2d(inC, outC, 3, { padding: 1, bias: false })],
    [`${name}norm1`, new BatchNorm2d(outC)],
    [`${name}relu1`, new ReLU()],
    [`${name}conv2`, new Conv2d(outC, outC, 3, { padding: 1, bias: false })],
    [`${name}norm2`, new BatchNorm2d(outC)],
    [`${name}relu2`, new ReLU()],
  ]);
}

export class UNet extends Module {
  readonly encoders: Sequential[] = [];
  readonly upconvs: ConvTranspose2d[] = [];
  readonly decoders: Sequential[] = [];
  readonly bottleneck: Sequential;
  readonly conv: Conv2d;
  readonly pool = new MaxPool2d(2);

  constructor(readonly config: UNetConfig = BUDA_UNET) {
    super();
    const { inChannels, outChannels, features, depth } = config;
    let channels = inChannels;
    for (let level = 1; level <= depth; level++) {
      const width = features * 2 ** (level - 1);
      this.encoders.push(this.registerModule(`encoder${level}`, block(channels, width, `enc${level}`)));
      channels = width;
    }
    const bottom = features * 2 ** depth;
    this.bottleneck = this.registerModule('bottleneck', block(channels, bottom, 'bottleneck'));
    channels = bottom;
    for (let level = depth; level >= 1; level--) {
      const width = features * 2 ** (level - 1);
      this.upconvs.push(
        this.registerModule(`upconv${level}`, new ConvTranspose2d(channels, width, 2, { stride: 2 })),
      );
      this.decoders.push(this.registerModule(`decoder${level}`, block(width * 2, width, `dec${level}`)));
      channels = width;
    }
    this.conv = this.registerModule('conv', new Conv2d(channels, outChannels, 1));
  }

  /** For inference: eval mode, every block's batch norms folded into their convolutions. Can no longer train. */
  foldBatchNorms(): this {
    this.eval();
    for (const seq of [...this.encoders, this.bottleneck, ...this.decoders]) {
      const [conv1, norm1, , conv2, norm2] = seq.layers as [Conv2d, BatchNorm2d, ReLU, Conv2d, BatchNorm2d];
      conv1.fuseBatchNorm(norm1);
      conv2.fuseBatchNorm(norm2);
    }
    return this;
  }

  // Intermediates are released as soon as they are consumed (see release() in the engine).
  forward(x: Tensor): Tensor {
    const skips: Tensor[] = [];
    let h = x;
    for (const encoder of this.encoders) {
      const e = encoder.forward(h);
      skips.push(e);
      if (h !== x) h.dispose();
      h = this.pool.forward(e);
    }
    h = release(h, this.bottleneck.forward(h));
    this.upconvs.forEach((up, i) => {
      const skip = skips[skips.length - 1 - i]!;
      const upsampled = release(h, up.forward(h));
      const joined = cat([upsampled, skip], 1);
      upsampled.dispose();
      skip.dispose();
      h = release(joined, this.decoders[i]!.forward(joined));
    });
    return release(h, this.conv.forward(h));
  }
}
