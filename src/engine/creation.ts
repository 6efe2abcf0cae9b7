// Making tensors: from typed arrays or JavaScript numbers, constants, ranges and random numbers.
import { type DType, dtypeOfArray, type TypedArray } from './dtype.ts';
import { native } from './native.ts';
import { type Device, Tensor } from './tensor.ts';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
}

/**
 * A tensor from a typed array (one copy into libtorch memory) or from plain numbers. The shape defaults to 1-d;
 * the dtype follows the typed array, or float32 for numbers.
 */
export function tensor(
  data: TypedArray | readonly number[],
  shape?: readonly number[],
  options: TensorOptions = {},
): Tensor {
  const dims = shape ? [...shape] : [data.length];
  let array: TypedArray;
  if (ArrayBuffer.isView(data)) {
    array = data;
    if (options.dtype !== undefined && options.dtype !== dtypeOfArray(data) && options.dtype !== 'bool') {
      // Convert after the copy in: libtorch does it faster and exactly as PyTorch would.
      const t = new Tensor(native.fromArray(array, dims, dtypeOfArray(array), 'cpu'));
      try {
        return t.to(options.dtype).to(options.device ?? 'cpu');
      } finally {
        t.dispose();
      }
    }
  } else {
    array = Float32Array.from(data as number[]);
  }
  const dtype = options.dtype ?? dtypeOfArray(array);
  return new Tensor(native.fromArray(array, dims, dtype, options.device));
}

export function scalar(value: number, options: TensorOptions = {}): Tensor {
  return full([], value, options);
}

export function full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
  return new Tensor(native.full([...shape], value, options.dtype, options.device));
}
export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}
export function ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}
/**
 * Zeros of t's shape, dtype, device and layout, as torch.zeros_like: optimiser state of a channels-last weight is
 * channels-last too, so that each update walks the three tensors in the same order.
 */
export function zerosLike(t: Tensor): Tensor {
  const zeros = full(t.shape, 0, { dtype: t.dtype, device: t.device });
  if (t.ndim !== 4 || zeros.isChannelsLast || !t.isChannelsLast) return zeros;
  const laidOut = zeros.contiguous('channels_last');
  zeros.dispose();
  return laidOut;
}
export function onesLike(t: Tensor): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, device: t.device });
}
/** Uniform on [0, 1), from libtorch's generator (see manualSeed). */
export function rand(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native.rand([...shape], options.dtype, options.device));
}
export function randn(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native.randn([...shape], options.dtype, options.device));
}
/** Integers in [low, high). */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  options: TensorOptions = {},
): Tensor {
  return new Tensor(native.randint(low, high, [...shape], options.dtype, options.device));
}
export function randperm(n: number): Tensor {
  return new Tensor(native.randperm(n));
}
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  return new Tensor(native.arange(from, to, step, options.dtype, options.device));
}
export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  return new Tensor(native.linspace(start, end, steps, options.dtype, options.device));
}
export function eye(n: number, options: TensorOptions = {}): Tensor {
  return new Tensor(native.eye(n, options.dtype, options.device));
}

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return new Tensor(
    native.cat(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  return new Tensor(
    native.stack(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}
/** Elementwise cond ? a : b. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  return new Tensor(
    native.where(cond.handle, typeof a === 'number' ? a : a.handle, typeof b === 'number' ? b : b.handle),
  );
}
