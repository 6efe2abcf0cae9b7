// Loads ImageNet-pretrained DenseNet weights, as published, into our DenseNet: torchvision's .pth files (torch.save,
// zip or legacy format, old or new key names) and Keras Applications' .h5 files. Every backbone tensor must be in
// the file with exactly the model's shape; the 1000-class ImageNet classifier is skipped so that the model's own
// head starts fresh (transfer learning), unless asked for. Nothing is copied unless everything checks out.
import { readFileSync } from 'node:fs';
import { BatchNorm2d, tensor, tidy } from '../../engine/index.ts';
import type { DenseNet } from '../densenet.ts';
import { isCounterKey, isHeadKey, kerasKey, torchvisionKey } from './densenet-keys.ts';
import { type HostTensor, permuteHost } from './host-tensor.ts';
import { looksLikeHdf5, readKerasWeights } from './keras-h5.ts';
import { looksLikeTorchCheckpoint, readTorchCheckpoint } from './torch-checkpoint.ts';
import { WeightsFileError } from './weights-file-error.ts';

export type PretrainedFormat = 'torch-zip' | 'torch-legacy' | 'keras-h5';

/** How images must be prepared for the features these weights learnt to mean anything. */
export interface InputNormalization {
  channels: 'RGB';
  /** 8-bit values divided by 255 first. */
  range: [0, 1];
  /** Then (x − mean[c]) / std[c] per channel. */
  mean: [number, number, number];
  std: [number, number, number];
  description: string;
}

/** torchvision's ImageNet normalisation; Keras's densenet.preprocess_input (mode 'torch') is the same. */
export const IMAGENET_NORMALIZATION: InputNormalization = {
  channels: 'RGB',
  range: [0, 1],
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  description:
    "RGB scaled to [0, 1], then (x - mean) / std per channel with ImageNet's mean [0.485, 0.456, 0.406] and " +
    "std [0.229, 0.224, 0.225] (torchvision's transforms.Normalize; Keras's densenet.preprocess_input uses mode " +
    "'torch', the same); a grayscale slice must be repeated to 3 channels first",
};

/** Batch-norm epsilon the weights were trained with: torchvision's 1e-5, Keras Applications' DenseNet 1.001e-5. */
export const BATCH_NORM_EPS: Record<PretrainedFormat, number> = {
  'torch-zip': 1e-5,
  'torch-legacy': 1e-5,
  'keras-h5': 1.001e-5,
};

export interface ImportOptions {
  /** Also load the file's classifier (the model must then have its shape: 1000 ImageNet classes). Default false. */
  loadHead?: boolean;
}

export interface ImportReport {
  file: string;
  format: PretrainedFormat;
  /** Model keys copied from the file. */
  loaded: string[];
  /** Tensors of the file not loaded, by the file's name, and why (the ImageNet classifier, unless loadHead). */
  skipped: Array<{ name: string; reason: string }>;
  /** Model keys left as initialised: the head. */
  leftNew: string[];
  /** Batch-norm num_batches_tracked counters the file lacks (old .pth files, Keras): kept; eval output is the same. */
  countersNotInFile: string[];
  /** File keys in torchvision's old 'norm.1' style that were renamed. */
  renamedOldKeys: number;
  /** The input preparation these weights expect. */
  inputNormalization: InputNormalization;
  /** The batch-norm epsilon the weights were trained with. */
  batchNormEps: number;
  warnings: string[];
}

// Long key lists in errors are cut here: a wrong file can miss hundreds.
const LISTED = 20;

/** Detects the format of `file`, checks every name and shape against `model`, and loads the backbone into it. */
export function importPretrained(file: string, model: DenseNet, options: ImportOptions = {}): ImportReport {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new WeightsFileError(file, `cannot read: ${(err as Error).message}`);
  }
  const source = readSource(bytes, file);
  const report = loadInto(model, source, file, options);
  const modelEps = [...new Set(batchNormEpsilons(model))];
  if (modelEps.some((eps) => eps !== report.batchNormEps)) {
    report.warnings.push(
      `the weights were trained with batch-norm epsilon ${report.batchNormEps}, the model uses ` +
        `${modelEps.join(', ')}; outputs differ slightly (about 1e-8 relative at unit variance, more where running_var is tiny)`,
    );
  }
  return report;
}

interface Source {
  format: PretrainedFormat;
  /** By our key; each tensor already in our layout. */
  tensors: Map<string, HostTensor>;
  /** File tensors with no counterpart in a DenseNet. */
  unmapped: string[];
  renamedOldKeys: number;
}

function readSource(bytes: Uint8Array, file: string): Source {
  if (looksLikeTorchCheckpoint(bytes)) return fromTorch(bytes, file);
  if (looksLikeHdf5(bytes)) return fromKeras(bytes, file);
  const start = Buffer.from(bytes.subarray(0, 8)).toString('hex');
  throw new WeightsFileError(
    file,
    `not a weights file this importer reads: expected a torch.save checkpoint (.pth, zip or legacy) or a Keras ` +
      `HDF5 weights file (.h5), but it starts with bytes ${start || '(none: empty file)'}`,
  );
}

function fromTorch(bytes: Uint8Array, file: string): Source {
  const checkpoint = readTorchCheckpoint(bytes, file);
  const tensors = new Map<string, HostTensor>();
  let renamedOldKeys = 0;
  for (const [name, t] of checkpoint.tensors) {
    const key = torchvisionKey(name);
    if (key !== name.replace(/^module\./, '')) renamedOldKeys++;
    addOnce(tensors, key, t, file);
  }
  return { format: checkpoint.format, tensors, unmapped: [], renamedOldKeys };
}

function fromKeras(bytes: Uint8Array, file: string): Source {
  const weights = readKerasWeights(bytes, file);
  const tensors = new Map<string, HostTensor>();
  const unmapped: string[] = [];
  for (const layer of weights.layers) {
    for (const { name, tensor: t } of layer.weights) {
      const key = kerasKey(layer.name, name);
      if (key === null) {
        unmapped.push(`${layer.name}/${name}`);
        continue;
      }
      // Keras keeps conv kernels as HWIO and dense kernels as [in, out]; PyTorch as OIHW and [out, in].
      const perm = t.shape.length === 4 ? [3, 2, 0, 1] : t.shape.length === 2 ? [1, 0] : null;
      addOnce(tensors, key, perm ? permuteHost(t, perm) : t, file);
    }
  }
  return { format: 'keras-h5', tensors, unmapped, renamedOldKeys: 0 };
}

function addOnce(tensors: Map<string, HostTensor>, key: string, t: HostTensor, file: string): void {
  const earlier = tensors.get(key);
  if (earlier !== undefined) {
    throw new WeightsFileError(file, `both ${earlier.origin} and ${t.origin} are the model's '${key}'`);
  }
  tensors.set(key, t);
}

function loadInto(model: DenseNet, source: Source, file: string, options: ImportOptions): ImportReport {
  const own = model.stateDict();
  const wanted = (key: string) => !isHeadKey(key) || options.loadHead === true;
  const skipped = source.unmapped.map((name) => ({ name, reason: 'no counterpart in a DenseNet' }));
  const toLoad = new Map<string, HostTensor>();
  const mismatched: string[] = [];
  for (const [key, t] of source.tensors) {
    const target = own.get(key);
    if (!wanted(key)) skipped.push({ name: t.origin, reason: 'ImageNet classifier: the head is left new' });
    else if (target === undefined) skipped.push({ name: t.origin, reason: `not in the model (as '${key}')` });
    else if (t.shape.join() !== target.shape.join()) {
      const origin = t.origin === `'${key}'` ? '' : ` (${t.origin})`;
      mismatched.push(
        `'${key}'${origin} is [${t.shape.join(', ')}] in the file but [${target.shape.join(', ')}] in the model`,
      );
    } else toLoad.set(key, t);
  }
  const missing = [...own.keys()].filter((k) => wanted(k) && !isCounterKey(k) && !source.tensors.has(k));
  const problems: string[] = [];
  if (missing.length) {
    problems.push(`missing ${missing.length} tensor(s) the model needs: ${listed(missing)}`);
  }
  if (mismatched.length)
    problems.push(`shape mismatch for ${mismatched.length} tensor(s): ${listed(mismatched, '; ')}`);
  if (problems.length) {
    throw new WeightsFileError(file, `does not fit this DenseNet (${source.format}): ${problems.join('. ')}`);
  }
  tidy(() => {
    const state = new Map([...toLoad].map(([k, t]) => [k, tensor(t.data, t.shape, { dtype: t.dtype })]));
    model.loadStateDict(state, { strict: false });
  });
  return {
    file,
    format: source.format,
    loaded: [...own.keys()].filter((k) => toLoad.has(k)),
    skipped,
    leftNew: [...own.keys()].filter((k) => isHeadKey(k) && !toLoad.has(k)),
    countersNotInFile: [...own.keys()].filter((k) => isCounterKey(k) && !toLoad.has(k)),
    renamedOldKeys: source.renamedOldKeys,
    inputNormalization: structuredClone(IMAGENET_NORMALIZATION),
    batchNormEps: BATCH_NORM_EPS[source.format],
    warnings: [],
  };
}

function listed(items: string[], separator = ', '): string {
  const shown = items.slice(0, LISTED).join(separator);
  return items.length > LISTED ? `${shown} ... and ${items.length - LISTED} more` : shown;
}

function batchNormEpsilons(model: DenseNet): number[] {
  return model.namedModules().flatMap(([, m]) => (m instanceof BatchNorm2d ? [m.eps] : []));
}
