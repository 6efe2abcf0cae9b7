// Tensors as read from a weights file, still in JavaScript memory: a contiguous row-major typed array and a shape.
// Readers produce them; the importer checks names and shapes on them and only then hands them to libtorch.
import type { DType, TypedArray } from '../../engine/index.ts';

export interface HostTensor {
  dtype: DType;
  shape: number[];
  /** Row-major, exactly prod(shape) elements (float16/bfloat16 arrive widened to float32). */
  data: TypedArray;
  /** Where it came from, for messages: the file's own name for it and, if different, its original shape. */
  origin: string;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * Copies the elements of a strided view (PyTorch's storage offset, sizes and strides, in elements) into a new
 * contiguous array of the same type. Also serves to transpose: a permuted view is a view with permuted strides.
 */
export function gatherStrided<T extends TypedArray>(
  source: T,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
): T {
  const count = elementCount(shape);
  const out = new (source.constructor as new (n: number) => T)(count);
  if (count === 0) return out;
  const contiguous = shape.every((_, d) => shape[d] === 1 || strides[d] === elementCount(shape.slice(d + 1)));
  if (contiguous) {
    out.set(source.subarray(offset, offset + count) as never);
    return out;
  }
  const ndim = shape.length;
  const index = new Array<number>(ndim).fill(0);
  let at = offset;
  for (let i = 0; i < count; i++) {
    out[i] = source[at]!;
    // Odometer increment over the index, adjusting the source position by the strides.
    for (let d = ndim - 1; d >= 0; d--) {
      index[d]!++;
      at += strides[d]!;
      if (index[d]! < shape[d]!) break;
      at -= strides[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** The largest element index a view reaches (to check it against its storage before reading). */
export function lastElement(offset: number, shape: readonly number[], strides: readonly number[]): number {
  if (elementCount(shape) === 0) return offset - 1;
  return shape.reduce((last, size, d) => last + (size - 1) * Math.max(0, strides[d]!), offset);
}

/** Row-major strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  return shape.map((_, d) => elementCount(shape.slice(d + 1)));
}

/** A contiguous copy with its axes permuted: out.shape[i] = shape[perm[i]] (e.g. HWIO → OIHW is [3, 2, 0, 1]). */
export function permuteHost(t: HostTensor, perm: readonly number[]): HostTensor {
  const strides = contiguousStrides(t.shape);
  const shape = perm.map((p) => t.shape[p]!);
  const data = gatherStrided(
    t.data,
    0,
    shape,
    perm.map((p) => strides[p]!),
  );
  return { ...t, shape, data };
}
