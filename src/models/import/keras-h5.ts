// Reads the weights of a Keras 2 HDF5 weights file (model.save_weights('x.h5'), the layout of Keras Applications'
// downloads such as densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5): the root attribute 'layer_names'
// lists the layers; each layer is a group whose attribute 'weight_names' lists its variables ('conv1/conv/kernel:0'),
// each a dataset at that path inside the group. A whole-model file (model.save) keeps the same under
// 'model_weights'. Attributes too big for an HDF5 object header are split by Keras into 'layer_names0', '...1'.
import * as hdf5 from 'jsfive';
import type { HostTensor } from './host-tensor.ts';
import { WeightsFileError } from './weights-file-error.ts';

export interface KerasLayer {
  name: string;
  /** In the file's order; each tensor keeps Keras's layout (conv kernels HWIO, dense kernels [in, out]). */
  weights: Array<{ name: string; tensor: HostTensor }>;
}

export interface KerasWeights {
  layers: KerasLayer[];
  kerasVersion: string | null;
  backend: string | null;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function looksLikeHdf5(bytes: Uint8Array): boolean {
  return HDF5_SIGNATURE.every((b, i) => bytes[i] === b);
}

export function readKerasWeights(bytes: Uint8Array, file: string): KerasWeights {
  try {
    return readWeights(bytes, file);
  } catch (err) {
    if (err instanceof WeightsFileError) throw err;
    // jsfive throws strings as well as errors.
    const problem = err instanceof Error ? err.message : String(err);
    throw new WeightsFileError(file, `cannot read as HDF5 (truncated or corrupt?): ${problem}`);
  }
}

function readWeights(bytes: Uint8Array, file: string): KerasWeights {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const root = new hdf5.File(buffer, file);
  let group: hdf5.Group = root;
  if (stringList(root.attrs, 'layer_names') === null && root.keys.includes('model_weights')) {
    group = asGroup(root.get('model_weights'), 'model_weights', file);
  }
  const layerNames = stringList(group.attrs, 'layer_names');
  if (layerNames === null) {
    const hint = root.keys.includes('layers')
      ? ' (a Keras 3 .weights.h5 file? only the Keras 2 layout is read)'
      : '';
    throw new WeightsFileError(file, `HDF5 file without Keras's 'layer_names' attribute${hint}`);
  }
  const layers = layerNames.map((name) => {
    const layer = asGroup(group.get(name), name, file);
    const weightNames = stringList(layer.attrs, 'weight_names') ?? [];
    return { name, weights: weightNames.map((w) => ({ name: w, tensor: readDataset(layer, w, file) })) };
  });
  const attr = (name: string) => (typeof root.attrs[name] === 'string' ? (root.attrs[name] as string) : null);
  return { layers, kerasVersion: attr('keras_version'), backend: attr('backend') };
}

function asGroup(node: hdf5.Group | hdf5.Dataset | null, name: string, file: string): hdf5.Group {
  if (!(node instanceof hdf5.Group)) throw new WeightsFileError(file, `'${name}' is not an HDF5 group`);
  return node;
}

function readDataset(layer: hdf5.Group, name: string, file: string): HostTensor {
  const node = layer.get(name);
  if (!(node instanceof hdf5.Dataset)) {
    throw new WeightsFileError(file, `weight '${name}' of layer '${layer.name}' is not a dataset`);
  }
  const dtype = String(node.dtype);
  const shape = [...node.shape];
  if (!/^[<>|]?f[248]$/.test(dtype)) {
    throw new WeightsFileError(file, `weight '${name}' has HDF5 type ${dtype}; expected floating point`);
  }
  const data = /f8$/.test(dtype) ? Float64Array.from(node.value) : Float32Array.from(node.value);
  if (data.length !== shape.reduce((n, d) => n * d, 1)) {
    throw new WeightsFileError(file, `weight '${name}' holds ${data.length} values for shape [${shape}]`);
  }
  return {
    dtype: data instanceof Float64Array ? 'float64' : 'float32',
    shape,
    data,
    origin: `Keras '${name}' [${shape.join(', ')}]`,
  };
}

/** A string-list attribute, joined from Keras's numbered chunks if it was split; null when absent. */
function stringList(attrs: Record<string, unknown>, name: string): string[] | null {
  const decode = (value: unknown): string[] =>
    (Array.isArray(value) ? value : [value]).map((v) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v),
    );
  if (name in attrs) return decode(attrs[name]);
  if (!(`${name}0` in attrs)) return null;
  const out: string[] = [];
  for (let i = 0; `${name}${i}` in attrs; i++) out.push(...decode(attrs[`${name}${i}`]));
  return out;
}
