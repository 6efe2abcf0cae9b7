// Names of DenseNet tensors in published weight files, translated to ours (which are torchvision's current
// ones: 'features.denseblock1.denselayer1.norm1.weight', ..., 'classifier.weight').

// torchvision's published DenseNet files predate its current names: 'denselayer1.norm.1.weight' for
// 'denselayer1.norm1.weight'. This is the regular expression torchvision's own loader renames them with
// (num_batches_tracked added, which those files never hold but a re-saved one might).
const OLD_DENSE_LAYER_KEY =
  /^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$/;

/** Our key for a torchvision state-dict key: old dense-layer names renamed, DataParallel's 'module.' dropped. */
export function torchvisionKey(fileKey: string): string {
  const key = fileKey.startsWith('module.') ? fileKey.slice('module.'.length) : fileKey;
  const old = OLD_DENSE_LAYER_KEY.exec(key);
  return old ? `${old[1]}${old[2]}` : key;
}

/** The model's ImageNet-specific head, which transfer learning replaces. */
export function isHeadKey(key: string): boolean {
  return key.startsWith('classifier.');
}

/** Batch-norm step counters: older checkpoints and Keras files lack them; they do not change eval outputs. */
export function isCounterKey(key: string): boolean {
  return key.endsWith('.num_batches_tracked');
}

const DENSE_LAYER_MEMBERS = {
  '0_bn': 'norm1',
  '1_conv': 'conv1',
  '1_bn': 'norm2',
  '2_conv': 'conv2',
} as const;

// keras.applications.densenet layer names → our module paths. Keras counts the stem as stage 1, so its dense
// block n is 'conv<n+1>' and the transition after it 'pool<n+1>'.
const KERAS_MODULES: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/^conv1\/conv$/, () => 'features.conv0'],
  [/^conv1\/bn$/, () => 'features.norm0'],
  [
    /^conv(\d+)_block(\d+)_(0_bn|1_conv|1_bn|2_conv)$/,
    (m) =>
      `features.denseblock${Number(m[1]) - 1}.denselayer${m[2]}.${DENSE_LAYER_MEMBERS[m[3] as keyof typeof DENSE_LAYER_MEMBERS]}`,
  ],
  [
    /^pool(\d+)_(bn|conv)$/,
    (m) => `features.transition${Number(m[1]) - 1}.${m[2] === 'bn' ? 'norm' : 'conv'}`,
  ],
  [/^bn$/, () => 'features.norm5'],
  [/^fc1000$/, () => 'classifier'],
];

// Keras variable names → PyTorch parameter and buffer names.
const KERAS_VARIABLES: Record<string, string> = {
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

/**
 * Our key for a weight of a Keras DenseNet121 layer ('conv2_block1_1_conv', 'conv2_block1_1_conv/kernel:0' →
 * 'features.denseblock1.denselayer1.conv1.weight'), or null for a layer or variable with no counterpart. Only
 * the last part of the weight name is used: its prefix varies between Keras versions.
 */
export function kerasKey(layerName: string, weightName: string): string | null {
  const variable = weightName.split('/').pop()!.replace(/:\d+$/, '');
  const member = KERAS_VARIABLES[variable];
  if (member === undefined) return null;
  for (const [pattern, path] of KERAS_MODULES) {
    const m = pattern.exec(layerName);
    if (m) return `${path(m)}.${member}`;
  }
  return null;
}
