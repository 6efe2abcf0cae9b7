// Reads the tensors of a torch.save'd state dict without Python, in both of torch.save's formats:
//  - zip (PyTorch ≥ 1.6): '<prefix>/data.pkl' pickles the dict; each tensor is
//    torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...) where the storage is a persistent id
//    ('storage', torch.FloatStorage, key, location, numel) whose bytes are the entry '<prefix>/data/<key>';
//  - legacy (before 1.6, e.g. torchvision's densenet121-a639ec97.pth): a magic-number pickle, the protocol version,
//    a sys-info dict, the dict pickle (storages as ('storage', type, key, location, numel, view)), the sorted list
//    of storage keys, then each storage as an int64 element count and its raw little-endian bytes.
// Tensors are views (offset and strides into a storage that several may share), so they are gathered into
// contiguous arrays here. Only the globals a state dict needs are allowed in the pickle.
import type { DType, TypedArray } from '../../engine/index.ts';
import { gatherStrided, type HostTensor, lastElement } from './host-tensor.ts';
import { type PickleCallable, unpickle } from './pickle.ts';
import { WeightsFileError } from './weights-file-error.ts';
import { looksLikeZip, ZipArchive } from './zip.ts';

export type TorchFormat = 'torch-zip' | 'torch-legacy';

export interface TorchCheckpoint {
  format: TorchFormat;
  /** Every tensor of the state dict, by its name in the file, in file order. */
  tensors: Map<string, HostTensor>;
  /** Entries of the dict that are not tensors (ignored). */
  ignored: string[];
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** True for either torch.save format (a zip, or a pickle starting with the legacy magic number). */
export function looksLikeTorchCheckpoint(bytes: Uint8Array): boolean {
  return looksLikeZip(bytes) || looksLikeLegacyTorch(bytes);
}

// PROTO n, LONG1 10, then the magic number's 10 little-endian bytes.
function looksLikeLegacyTorch(bytes: Uint8Array): boolean {
  const magic = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
  return (
    bytes[0] === 0x80 && bytes[2] === 0x8a && bytes[3] === 10 && magic.every((b, i) => bytes[4 + i] === b)
  );
}

export function readTorchCheckpoint(bytes: Uint8Array, file: string): TorchCheckpoint {
  if (looksLikeZip(bytes)) return readZipCheckpoint(bytes, file);
  if (looksLikeLegacyTorch(bytes)) return readLegacyCheckpoint(bytes, file);
  throw new WeightsFileError(file, 'not a torch.save file (neither a zip archive nor the legacy format)');
}

interface StorageType {
  name: string;
  dtype: DType;
  elementSize: number;
  decode(bytes: Uint8Array): TypedArray;
}

/** A storage of the file: its bytes arrive when the reader gets to them (after the pickle, in legacy files). */
interface RootStorage {
  key: string;
  type: StorageType;
  numel: number;
  bytes?: Uint8Array;
  decoded?: TypedArray;
}

/** A storage as a tensor refers to it: a root, or (legacy files) an element range of one. */
interface StorageRef {
  root: RootStorage;
  offset: number;
  numel: number;
}

class TensorView {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly strides: number[],
  ) {}
}

// Aligned copies: a file's bytes sit at arbitrary offsets, typed arrays need their element alignment.
const STORAGE_TYPES: StorageType[] = [
  {
    name: 'FloatStorage',
    dtype: 'float32',
    elementSize: 4,
    decode: (b) => new Float32Array(copyBytes(b).buffer),
  },
  {
    name: 'DoubleStorage',
    dtype: 'float64',
    elementSize: 8,
    decode: (b) => new Float64Array(copyBytes(b).buffer),
  },
  { name: 'HalfStorage', dtype: 'float16', elementSize: 2, decode: decodeHalf },
  { name: 'BFloat16Storage', dtype: 'bfloat16', elementSize: 2, decode: decodeBFloat16 },
  {
    name: 'LongStorage',
    dtype: 'int64',
    elementSize: 8,
    decode: (b) => new BigInt64Array(copyBytes(b).buffer),
  },
  { name: 'IntStorage', dtype: 'int32', elementSize: 4, decode: (b) => new Int32Array(copyBytes(b).buffer) },
  {
    name: 'ShortStorage',
    dtype: 'int16',
    elementSize: 2,
    decode: (b) => new Int16Array(copyBytes(b).buffer),
  },
  { name: 'CharStorage', dtype: 'int8', elementSize: 1, decode: (b) => new Int8Array(copyBytes(b).buffer) },
  { name: 'ByteStorage', dtype: 'uint8', elementSize: 1, decode: (b) => copyBytes(b) },
  { name: 'BoolStorage', dtype: 'bool', elementSize: 1, decode: (b) => copyBytes(b) },
];

// An explicit copy: Buffer's slice() would share the file's memory (and its misalignment).
function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

function decodeHalf(bytes: Uint8Array): Float32Array {
  const half = new Uint16Array(copyBytes(bytes).buffer);
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) {
    const h = half[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * 2 ** -14 * (fraction / 1024);
    else if (exponent === 31) out[i] = fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else out[i] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return out;
}

function decodeBFloat16(bytes: Uint8Array): Float32Array {
  const half = new Uint16Array(copyBytes(bytes).buffer);
  const bits = new Uint32Array(half.length);
  for (let i = 0; i < half.length; i++) bits[i] = half[i]! << 16;
  return new Float32Array(bits.buffer);
}

/** The allow-list: the only Python globals a state-dict pickle may name. */
function resolveGlobal(module: string, name: string): unknown {
  if ((module === 'torch' || module === 'torch.cuda') && name.endsWith('Storage')) {
    return STORAGE_TYPES.find((t) => t.name === name);
  }
  const qualified = `${module}.${name}`;
  return ALLOWED_CALLABLES[qualified];
}

const ALLOWED_CALLABLES: Record<string, PickleCallable> = {
  'collections.OrderedDict': (args) =>
    new Map(Array.isArray(args[0]) ? (args[0] as [unknown, unknown][]) : []),
  'torch._utils._rebuild_tensor_v2': (args) => rebuildTensor(args, 6),
  'torch._utils._rebuild_tensor': (args) => rebuildTensor(args, 4),
  'torch._utils._rebuild_parameter': (args) => args[0],
  'torch.nn.parameter.Parameter': (args) => args[0],
};

function rebuildTensor(args: unknown[], minArgs: number): TensorView {
  const [storage, offset, size, stride] = args;
  const isInts = (x: unknown): x is number[] =>
    Array.isArray(x) && x.every((v) => Number.isInteger(v) && (v as number) >= 0);
  if (
    args.length < minArgs ||
    !isStorageRef(storage) ||
    !Number.isInteger(offset) ||
    !isInts(size) ||
    !isInts(stride) ||
    size.length !== stride.length
  ) {
    throw new Error('malformed tensor record (expected storage, offset, size, stride)');
  }
  return new TensorView(storage, offset as number, size, stride);
}

function isStorageRef(x: unknown): x is StorageRef {
  return typeof x === 'object' && x !== null && 'root' in x && 'numel' in x;
}

/** Turns a persistent id ('storage', type, key, location, numel[, view]) into a storage reference. */
function storageFromId(id: unknown, roots: Map<string, RootStorage>, file: string): StorageRef {
  const fail = (problem: string) => new WeightsFileError(file, problem);
  if (!Array.isArray(id) || id.length < 5) throw fail('malformed persistent id in the pickle');
  const [kind, type, key, , numel, view] = id as unknown[];
  if (kind === 'module')
    throw fail('holds a whole pickled nn.Module, not a state dict; save model.state_dict()');
  if (kind !== 'storage') throw fail(`unknown persistent id kind '${String(kind)}'`);
  if (type === undefined || typeof type !== 'object' || !('elementSize' in (type as object))) {
    throw fail('persistent id without a storage type');
  }
  if (typeof key !== 'string' || !Number.isInteger(numel)) throw fail('malformed storage id in the pickle');
  let root = roots.get(key);
  if (root === undefined) {
    root = { key, type: type as StorageType, numel: numel as number };
    roots.set(key, root);
  }
  if (view === undefined || view === null) return { root, offset: 0, numel: root.numel };
  // Legacy files only: a storage that is a slice (view key, offset, size) of the root, in elements.
  const [, viewOffset, viewSize] = view as unknown[];
  if (!Number.isInteger(viewOffset) || !Number.isInteger(viewSize)) throw fail('malformed storage view');
  return { root, offset: viewOffset as number, numel: viewSize as number };
}

function unpickleStateDict(
  bytes: Uint8Array,
  file: string,
  offset: number,
  roots: Map<string, RootStorage>,
): { value: unknown; end: number } {
  try {
    return unpickle(bytes, {
      file,
      offset,
      resolveGlobal,
      persistentLoad: (id) => storageFromId(id, roots, file),
    });
  } catch (err) {
    if (err instanceof WeightsFileError) throw err;
    throw new WeightsFileError(file, (err as Error).message);
  }
}

function readZipCheckpoint(bytes: Uint8Array, file: string): TorchCheckpoint {
  const zip = new ZipArchive(bytes, file);
  const names = [...zip.entries.keys()];
  const pickleName = names.find((n) => n === 'data.pkl' || /^[^/]+\/data\.pkl$/.test(n));
  if (pickleName === undefined) {
    const hint = names.some((n) => n.endsWith('constants.pkl'))
      ? ' (it is a TorchScript archive from torch.jit.save; torch.save the state_dict() instead)'
      : '';
    throw new WeightsFileError(file, `zip archive without data.pkl: not a torch.save checkpoint${hint}`);
  }
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  const byteOrder = `${prefix}byteorder`;
  if (zip.has(byteOrder) && Buffer.from(zip.read(byteOrder)).toString() !== 'little') {
    throw new WeightsFileError(file, 'big-endian checkpoint; only little-endian files are supported');
  }
  const roots = new Map<string, RootStorage>();
  const { value } = unpickleStateDict(zip.read(pickleName), file, 0, roots);
  for (const root of roots.values()) {
    const entry = `${prefix}data/${root.key}`;
    if (!zip.has(entry)) throw new WeightsFileError(file, `storage '${entry}' is missing from the archive`);
    root.bytes = zip.read(entry);
  }
  return { format: 'torch-zip', ...collectTensors(value, file) };
}

function readLegacyCheckpoint(bytes: Uint8Array, file: string): TorchCheckpoint {
  const noGlobals = { file, resolveGlobal: () => undefined };
  const magic = unpickle(bytes, noGlobals);
  if (magic.value !== LEGACY_MAGIC)
    throw new WeightsFileError(file, 'not a torch.save file (bad magic number)');
  const protocol = unpickle(bytes, { ...noGlobals, offset: magic.end });
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw new WeightsFileError(file, `unsupported legacy torch.save protocol ${String(protocol.value)}`);
  }
  const sysInfo = unpickle(bytes, { ...noGlobals, offset: protocol.end });
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) {
    throw new WeightsFileError(file, 'big-endian checkpoint; only little-endian files are supported');
  }
  const roots = new Map<string, RootStorage>();
  const object = unpickleStateDict(bytes, file, sysInfo.end, roots);
  const keys = unpickle(bytes, { ...noGlobals, offset: object.end });
  if (!Array.isArray(keys.value))
    throw new WeightsFileError(file, 'malformed legacy file: no storage key list');
  let at = keys.end;
  for (const key of keys.value as unknown[]) {
    const root = roots.get(String(key));
    if (root === undefined)
      throw new WeightsFileError(file, `storage '${String(key)}' is listed but never used`);
    if (at + 8 > bytes.length) throw truncated(file, key);
    const count = new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigInt64(0, true);
    if (count !== BigInt(root.numel)) {
      throw new WeightsFileError(
        file,
        `storage '${root.key}' holds ${count} elements, its id says ${root.numel}`,
      );
    }
    const length = root.numel * root.type.elementSize;
    if (at + 8 + length > bytes.length) throw truncated(file, key);
    root.bytes = bytes.subarray(at + 8, at + 8 + length);
    at += 8 + length;
  }
  return { format: 'torch-legacy', ...collectTensors(object.value, file) };
}

function truncated(file: string, key: unknown): WeightsFileError {
  return new WeightsFileError(
    file,
    `storage '${String(key)}' runs past the end of the file: truncated download?`,
  );
}

/** The dict's tensors, gathered into contiguous host arrays (a training checkpoint's 'state_dict' is used). */
function collectTensors(value: unknown, file: string): Omit<TorchCheckpoint, 'format'> {
  if (!(value instanceof Map)) {
    throw new WeightsFileError(
      file,
      `holds a ${Array.isArray(value) ? 'list' : typeof value}, not a state dict`,
    );
  }
  const nested = value.get('state_dict');
  const dict =
    nested instanceof Map && ![...value.values()].some((v) => v instanceof TensorView) ? nested : value;
  const tensors = new Map<string, HostTensor>();
  const ignored: string[] = [];
  for (const [name, item] of dict) {
    if (item instanceof TensorView) tensors.set(String(name), materialise(String(name), item, file));
    else ignored.push(String(name));
  }
  return { tensors, ignored };
}

function materialise(name: string, view: TensorView, file: string): HostTensor {
  const { root, offset: storageOffset, numel } = view.storage;
  const offset = storageOffset + view.offset;
  const last = lastElement(view.offset, view.shape, view.strides);
  if (last >= numel || storageOffset + numel > root.numel) {
    throw new WeightsFileError(
      file,
      `tensor '${name}' (offset ${view.offset}, size [${view.shape}], stride [${view.strides}]) reaches past its storage of ${numel} elements`,
    );
  }
  if (root.bytes === undefined) throw new WeightsFileError(file, `storage '${root.key}' has no data`);
  if (root.bytes.length < root.numel * root.type.elementSize) {
    throw new WeightsFileError(file, `storage '${root.key}' is shorter than its ${root.numel} elements`);
  }
  root.decoded ??= root.type.decode(root.bytes.subarray(0, root.numel * root.type.elementSize));
  const dtype = root.type.dtype === 'float16' || root.type.dtype === 'bfloat16' ? 'float32' : root.type.dtype;
  return {
    dtype,
    shape: [...view.shape],
    data: gatherStrided(root.decoded, offset, view.shape, view.strides),
    origin: `'${name}'`,
  };
}
