// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header mapping each name
// to {dtype, shape, data_offsets}, then the raw little-endian tensor bytes. Readable by Python's `safetensors`.
import { readFileSync } from 'node:fs';
import { arrayFromBuffer, type DType } from '../dtype.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { writeFileAtomic } from './atomic.ts';

const CODES: Record<string, string> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const DTYPES: Record<string, DType> = Object.fromEntries(
  Object.entries(CODES).map(([k, v]) => [v, k as DType]),
);
// Types read through a same-width typed array: the bytes are handed to libtorch as they are.
const CARRIER: Partial<Record<DType, DType>> = { float16: 'int16', bfloat16: 'int16', bool: 'uint8' };

export class SafetensorsError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'SafetensorsError';
  }
}

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Serialises tensors (and string metadata) to safetensors bytes. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header['__metadata__'] = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const code = CODES[t.dtype];
    if (code === undefined) throw new Error(`safetensors: cannot store dtype ${t.dtype} (${name})`);
    const bytes = rawBytes(t);
    header[name] = { dtype: code, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    blobs.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // keeps the data 8-byte aligned
  const head = Buffer.from(json, 'utf8');
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(head.byteLength));
  return [size, head, ...blobs];
}

function rawBytes(t: Tensor): Uint8Array {
  // data() widens half precision to float32; the file keeps the tensor's own 2-byte values.
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') return new Uint8Array(native.toBits(t.handle));
  const data = t.data();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Writes a .safetensors file atomically. */
export function saveSafetensors(
  path: string,
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Parses safetensors bytes; every structural problem is an error naming the file. */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsContents {
  if (bytes.byteLength < 8) throw new SafetensorsError(file, 'too short to be a safetensors file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8) {
    throw new SafetensorsError(
      file,
      `header length ${headerLength} exceeds the file size (${bytes.byteLength} bytes)`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8'));
  } catch {
    throw new SafetensorsError(file, 'header is not valid JSON');
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, Tensor>();
  const metadata = (header['__metadata__'] ?? {}) as Record<string, string>;
  try {
    for (const [name, value] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = value as Entry;
      const dtype = DTYPES[e.dtype];
      if (dtype === undefined) throw new SafetensorsError(file, `${name}: unsupported dtype ${e.dtype}`);
      const [begin, end] = e.data_offsets;
      if (!(begin >= 0 && end >= begin && end <= dataLength)) {
        throw new SafetensorsError(
          file,
          `${name}: data offsets [${begin}, ${end}] outside the data (${dataLength} bytes)`,
        );
      }
      // Copy into a fresh, aligned buffer: a file's bytes need not be aligned for a Float32Array view.
      // (Buffer.slice would share the pool's memory, so copy explicitly.)
      const copy = new Uint8Array(end - begin);
      copy.set(bytes.subarray(dataStart + begin, dataStart + end));
      const array = arrayFromBuffer(copy.buffer, CARRIER[dtype] ?? dtype);
      const expected = e.shape.reduce((a, b) => a * b, 1);
      if (array.length !== expected) {
        throw new SafetensorsError(
          file,
          `${name}: ${array.length} elements stored for shape [${e.shape.join(', ')}]`,
        );
      }
      tensors.set(name, new Tensor(native.fromArray(array, e.shape, dtype)));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}

export function loadSafetensors(path: string): SafetensorsContents {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SafetensorsError(path, `cannot read (${(err as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}

/**
 * A copy of a .safetensors file with every float32 tensor stored as float16 (half the size; integer tensors such as
 * batch-norm counters unchanged). Loading converts back to the model's float32. For archiving trained models, where
 * the predictions of the halved copy must be checked against the original's.
 */
export function saveHalfPrecisionCopy(from: string, to: string): void {
  const { tensors, metadata } = loadSafetensors(from);
  const halved = new Map<string, Tensor>();
  try {
    for (const [name, t] of tensors) halved.set(name, t.dtype === 'float32' ? t.to('float16') : t);
    saveSafetensors(to, halved, { ...metadata, storedAs: 'float16 copy of float32 weights' });
  } finally {
    for (const t of new Set([...tensors.values(), ...halved.values()])) t.dispose();
  }
}
