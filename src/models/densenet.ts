// DenseNet-121 (Huang et al. 2017), laid out as torchvision's densenet.py so that its state-dict keys are
// torchvision's own ('features.denseblock1.denselayer1.norm1.weight', ..., 'classifier.weight'): dense blocks of
// 6-12-24-16 BN-ReLU-Conv layers, growth rate 32, 4× bottleneck, transitions halving channels and resolution.
// With a 2-class head: 6,955,906 parameters.
import {
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  cat,
  Dropout,
  F,
  init,
  Linear,
  MaxPool2d,
  Module,
  ReLU,
  release,
  Sequential,
  type Tensor,
} from '../engine/index.ts';

export interface DenseNetConfig {
  growthRate: number;
  blockConfig: number[];
  numInitFeatures: number;
  bnSize: number;
  dropRate: number;
  numClasses: number;
  /** Dropout before the classifier (0: none). */
  headDropout: number;
  /** Hidden units of an extra head layer (0: a single linear layer, as torchvision). */
  headHidden: number;
  /** Batch-norm epsilon: 1e-5 as torchvision; 1.001e-5 matches Keras Applications' weights. */
  bnEps?: number;
}

export const DENSENET121: DenseNetConfig = {
  growthRate: 32,
  blockConfig: [6, 12, 24, 16],
  numInitFeatures: 64,
  bnSize: 4,
  dropRate: 0,
  numClasses: 2,
  headDropout: 0,
  headHidden: 0,
};

class DenseLayer extends Module {
  readonly norm1: BatchNorm2d;
  readonly conv1: Conv2d;
  readonly norm2: BatchNorm2d;
  readonly conv2: Conv2d;

  constructor(
    inputFeatures: number,
    growthRate: number,
    bnSize: number,
    readonly dropRate: number,
    eps: number,
  ) {
    super();
    this.norm1 = this.registerModule('norm1', new BatchNorm2d(inputFeatures, { eps }));
    this.registerModule('relu1', new ReLU());
    this.conv1 = this.registerModule(
      'conv1',
      new Conv2d(inputFeatures, bnSize * growthRate, 1, { bias: false }),
    );
    this.norm2 = this.registerModule('norm2', new BatchNorm2d(bnSize * growthRate, { eps }));
    this.registerModule('relu2', new ReLU());
    this.conv2 = this.registerModule(
      'conv2',
      new Conv2d(bnSize * growthRate, growthRate, 3, { padding: 1, bias: false }),
    );
  }

  /** Takes the concatenation of every earlier feature map of the block; returns growthRate new channels. */
  forward(concatenated: Tensor): Tensor {
    // In-place ReLUs on fresh batch-norm outputs, as torchvision's ReLU(inplace=True); intermediates released
    // as soon as they are consumed (see release() in the engine).
    let h = F.relu_(this.norm1.forward(concatenated));
    h = release(h, this.conv1.forward(h));
    h = release(h, F.relu_(this.norm2.forward(h)));
    h = release(h, this.conv2.forward(h));
    return this.dropRate > 0 ? release(h, F.dropout(h, this.dropRate, this.training)) : h;
  }
}

class DenseBlock extends Module {
  readonly layers: DenseLayer[] = [];

  constructor(
    numLayers: number,
    inputFeatures: number,
    growthRate: number,
    bnSize: number,
    dropRate: number,
    eps: number,
  ) {
    super();
    for (let i = 0; i < numLayers; i++) {
      const layer = new DenseLayer(inputFeatures + i * growthRate, growthRate, bnSize, dropRate, eps);
      this.layers.push(this.registerModule(`denselayer${i + 1}`, layer));
    }
  }

  forward(x: Tensor): Tensor {
    const features = [x];
    for (const layer of this.layers) {
      const joined = cat(features, 1);
      features.push(release(joined, layer.forward(joined)));
    }
    const out = cat(features, 1);
    for (const f of features.slice(1)) f.dispose();
    return out;
  }
}

class Transition extends Sequential {
  constructor(inputFeatures: number, outputFeatures: number, eps: number) {
    super([
      ['norm', new BatchNorm2d(inputFeatures, { eps })],
      ['relu', new ReLU({ inplace: true })],
      ['conv', new Conv2d(inputFeatures, outputFeatures, 1, { bias: false })],
      ['pool', new AvgPool2d(2, { stride: 2 })],
    ]);
  }
}

export class DenseNet extends Module {
  readonly features: Sequential;
  readonly classifier: Module;
  readonly numFeatures: number;

  constructor(readonly config: DenseNetConfig = DENSENET121) {
    super();
    const c = config;
    const eps = c.bnEps ?? 1e-5;
    this.features = this.registerModule(
      'features',
      new Sequential([
        ['conv0', new Conv2d(3, c.numInitFeatures, 7, { stride: 2, padding: 3, bias: false })],
        ['norm0', new BatchNorm2d(c.numInitFeatures, { eps })],
        ['relu0', new ReLU({ inplace: true })],
        ['pool0', new MaxPool2d(3, { stride: 2, padding: 1 })],
      ]),
    );
    let channels = c.numInitFeatures;
    c.blockConfig.forEach((numLayers, i) => {
      this.features.add(
        `denseblock${i + 1}`,
        new DenseBlock(numLayers, channels, c.growthRate, c.bnSize, c.dropRate, eps),
      );
      channels += numLayers * c.growthRate;
      if (i !== c.blockConfig.length - 1) {
        this.features.add(`transition${i + 1}`, new Transition(channels, Math.floor(channels / 2), eps));
        channels = Math.floor(channels / 2);
      }
    });
    this.features.add('norm5', new BatchNorm2d(channels, { eps }));
    this.numFeatures = channels;
    this.classifier = this.registerModule('classifier', buildHead(channels, c));
    this.#initialise();
  }

  // torchvision's initialisation: He-normal convolutions, unit BN scale, zero biases.
  #initialise(): void {
    for (const [, m] of this.namedModules()) {
      if (m instanceof Conv2d) init.kaimingNormal_(m.weight, { nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d) {
        if (m.weight) init.constant_(m.weight, 1);
        if (m.bias) init.constant_(m.bias, 0);
      } else if (m instanceof Linear && m.bias) init.constant_(m.bias, 0);
    }
  }

  /**
   * For inference: eval mode, and each batch norm that directly follows a convolution (norm0, every layer's
   * norm2) folded into it; the others follow a concatenation and stay. The network can no longer train.
   */
  foldBatchNorms(): this {
    this.eval();
    const stem = new Map(this.features.namedChildren());
    (stem.get('conv0') as Conv2d).fuseBatchNorm(stem.get('norm0') as BatchNorm2d);
    for (const [, m] of this.features.namedChildren()) {
      if (m instanceof DenseBlock) for (const layer of m.layers) layer.conv1.fuseBatchNorm(layer.norm2);
    }
    return this;
  }

  /** Pooled image features [N, numFeatures] (the backbone's output). */
  embed(x: Tensor): Tensor {
    const features = F.relu_(this.features.forward(x));
    const pooled = release(features, F.adaptiveAvgPool2d(features, 1));
    return release(pooled, pooled.flatten(1));
  }

  /** Class logits [N, numClasses]; softmax gives tumour / no-tumour probabilities. */
  forward(x: Tensor): Tensor {
    const embedding = this.embed(x);
    return release(embedding, this.classifier.forward(embedding));
  }
}

function buildHead(inFeatures: number, c: DenseNetConfig): Module {
  if (c.headHidden === 0 && c.headDropout === 0) return new Linear(inFeatures, c.numClasses);
  const layers: Array<[string, Module]> = [];
  if (c.headDropout > 0) layers.push(['dropout', new Dropout(c.headDropout)]);
  if (c.headHidden > 0) {
    layers.push(['hidden', new Linear(inFeatures, c.headHidden)], ['relu', new ReLU()]);
    if (c.headDropout > 0) layers.push(['dropout2', new Dropout(c.headDropout)]);
  }
  layers.push(['out', new Linear(c.headHidden > 0 ? c.headHidden : inFeatures, c.numClasses)]);
  return new Sequential(layers);
}
