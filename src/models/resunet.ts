// ResUNet of the reference design (the Kaggle "brain MRI detection and segmentation" notebooks): a stem of two
// 3×3 convolutions (conv → ReLU → BN, 16 filters), residual encoder blocks (32, 64, 128, 256) separated by 2×
// max-pooling, a decoder that upsamples 2× (nearest), concatenates the skip and applies a residual block
// (128, 64, 32, 16), and a 1×1 output convolution. 1,206,129 trainable parameters at width 1 (1,210,513 in
// Keras's count, which adds the 4,384 batch-norm running statistics). Returns logits; sigmoid for probabilities.
import { BatchNorm2d, Conv2d, cat, F, init, Module, release, type Tensor } from '../engine/index.ts';

export interface ResUNetConfig {
  inChannels: number;
  outChannels: number;
  /** Filters of the stem; each level doubles them (reference: 16 → 32, 64, 128, 256). */
  features: number;
  /** Residual encoder levels below the stem (reference: 4, the last one being the bottleneck). */
  depth: number;
}

export const REFERENCE_RESUNET: ResUNetConfig = { inChannels: 3, outChannels: 1, features: 16, depth: 4 };

/** 1×1 conv-BN-ReLU, 3×3 conv-BN, plus a 1×1 conv-BN shortcut; summed, then ReLU. */
class ResidualBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly shortcut: Conv2d;
  readonly shortcutBn: BatchNorm2d;

  constructor(inChannels: number, filters: number) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, filters, 1));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(filters));
    this.conv2 = this.registerModule('conv2', new Conv2d(filters, filters, 3, { padding: 1 }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(filters));
    this.shortcut = this.registerModule('shortcut', new Conv2d(inChannels, filters, 1));
    this.shortcutBn = this.registerModule('shortcut_bn', new BatchNorm2d(filters));
  }

  forward(x: Tensor): Tensor {
    let main = this.conv1.forward(x);
    main = release(main, F.relu_(this.bn1.forward(main)));
    main = release(main, this.conv2.forward(main));
    main = release(main, this.bn2.forward(main));
    let skip = this.shortcut.forward(x);
    skip = release(skip, this.shortcutBn.forward(skip));
    const sum = main.add(skip);
    main.dispose();
    skip.dispose();
    return F.relu_(sum);
  }
}

/** Conv → ReLU → BN twice (the reference stem puts the activation before batch norm). */
class Stem extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;

  constructor(inChannels: number, filters: number) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, filters, 3, { padding: 1 }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(filters));
    this.conv2 = this.registerModule('conv2', new Conv2d(filters, filters, 3, { padding: 1 }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(filters));
  }

  forward(x: Tensor): Tensor {
    let h = F.relu_(this.conv1.forward(x));
    h = release(h, this.bn1.forward(h));
    h = release(h, F.relu_(this.conv2.forward(h)));
    return release(h, this.bn2.forward(h));
  }
}

export class ResUNet extends Module {
  readonly stem: Stem;
  readonly encoders: ResidualBlock[] = [];
  readonly decoders: ResidualBlock[] = [];
  readonly head: Conv2d;

  constructor(readonly config: ResUNetConfig = REFERENCE_RESUNET) {
    super();
    const { inChannels, outChannels, features, depth } = config;
    this.stem = this.registerModule('stem', new Stem(inChannels, features));
    const widths = [features];
    for (let level = 1; level <= depth; level++) {
      const width = features * 2 ** level;
      this.encoders.push(
        this.registerModule(`encoder${level}`, new ResidualBlock(widths[level - 1]!, width)),
      );
      widths.push(width);
    }
    let channels = widths[depth]!;
    for (let level = depth - 1; level >= 0; level--) {
      const width = widths[level]!;
      this.decoders.push(
        this.registerModule(`decoder${level + 1}`, new ResidualBlock(channels + width, width)),
      );
      channels = width;
    }
    this.head = this.registerModule('head', new Conv2d(channels, outChannels, 1));
    // He-normal, as the reference's kernel_initializer='he_normal' (Keras: fan-in, truncated; close enough).
    for (const [, m] of this.namedModules())
      if (m instanceof Conv2d) init.kaimingNormal_(m.weight, { nonlinearity: 'relu' });
  }

  /**
   * For inference: eval mode, and the residual blocks' batch norms folded into the convolutions before them (the
   * stem's follow a ReLU and stay). The network can no longer train.
   */
  foldBatchNorms(): this {
    this.eval();
    for (const block of [...this.encoders, ...this.decoders]) {
      block.conv1.fuseBatchNorm(block.bn1);
      block.conv2.fuseBatchNorm(block.bn2);
      block.shortcut.fuseBatchNorm(block.shortcutBn);
    }
    return this;
  }

  // Intermediates are released as soon as they are consumed (see release() in the engine); in-place ReLUs act
  // on fresh outputs only, as nothing else reads them.
  forward(x: Tensor): Tensor {
    const skips = [this.stem.forward(x)];
    let h = skips[0]!;
    for (const encoder of this.encoders) {
      const pooled = F.maxPool2d(h, 2);
      h = release(pooled, encoder.forward(pooled));
      skips.push(h);
    }
    this.decoders.forEach((decoder, i) => {
      const skip = skips[skips.length - 2 - i]!;
      const upsampled = release(h, F.interpolate(h, { scaleFactor: 2, mode: 'nearest' }));
      const joined = cat([upsampled, skip], 1);
      upsampled.dispose();
      skip.dispose();
      h = release(joined, decoder.forward(joined));
    });
    return release(h, this.head.forward(h));
  }
}
