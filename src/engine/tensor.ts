// The Tensor: a JavaScript handle on a libtorch tensor, with PyTorch's method names in camelCase.
// Every method returns a new Tensor (tracked by the enclosing tidy scope) except the in-place ones ending in '_'.
import { arrayFromBuffer, type DType, type TypedArray } from './dtype.ts';
import { type Handle, native } from './native.ts';
import { keep, track } from './scope.ts';

export type Device = string; // 'cpu', 'cuda', 'cuda:1', ...
type Operand = Tensor | number;

function raw(x: Operand): Handle | number {
  return typeof x === 'number' ? x : x.handle;
}

export class Tensor {
  #handle: Handle;
  #shape: readonly number[] | undefined;
  #disposed = false;

  /** Wraps a native handle; library code only. */
  constructor(handle: Handle) {
    this.#handle = handle;
    track(this);
  }

  /** The native handle (throws once disposed, with a message that says so). */
  get handle(): Handle {
    if (this.#disposed) throw new Error('tensor was disposed');
    return this.#handle;
  }

  get shape(): readonly number[] {
    if (this.#shape === undefined) this.#shape = Object.freeze(native.shape(this.handle));
    return this.#shape;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): DType {
    return native.dtype(this.handle) as DType;
  }
  get device(): Device {
    return native.device(this.handle);
  }
  get isContiguous(): boolean {
    return native.isContiguous(this.handle);
  }
  get isDisposed(): boolean {
    return this.#disposed;
  }
  size(dim: number): number {
    const d = dim < 0 ? this.ndim + dim : dim;
    const n = this.shape[d];
    if (n === undefined) throw new RangeError(`dimension ${dim} out of range for a ${this.ndim}-d tensor`);
    return n;
  }

  /** Frees libtorch's memory now (autograd keeps what it still needs). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    native.dispose(this.#handle);
    this.#disposed = true;
  }
  /** Exempts this tensor from tidy scopes: it lives until dispose(). */
  keep(): this {
    return keep(this);
  }
  /** Takes over another tensor's storage, keeping this object's identity (Module.to() moves parameters so). */
  replaceWith(other: Tensor): void {
    const next = other.handle;
    native.dispose(this.handle);
    this.#handle = next;
    this.#shape = undefined;
    other.#disposed = true; // ownership moved here: the other object must not free it
  }

  // ----- reading back -----
  /** A copy of the elements as a typed array (float16 reads back as Float32Array, bool as Uint8Array). */
  data(): TypedArray {
    const [buffer, dtype] = native.toArray(this.handle);
    return arrayFromBuffer(buffer, dtype);
  }
  /** Float32 elements (converting if needed). */
  toFloat32(): Float32Array {
    if (this.dtype === 'float32') return this.data() as Float32Array;
    const t = this.to('float32');
    try {
      return t.data() as Float32Array;
    } finally {
      t.dispose();
    }
  }
  item(): number {
    return native.item(this.handle);
  }

  // ----- autograd -----
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  requiresGrad_(on = true): this {
    native.setRequiresGrad(this.handle, on);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** The accumulated gradient, or null; a new handle on each call. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient?.handle ?? null, options.retainGraph ?? null);
  }
  detach(): Tensor {
    return new Tensor(native.detach(this.handle));
  }

  // ----- arithmetic -----
  add(o: Operand): Tensor {
    return new Tensor(native.add(this.handle, raw(o)));
  }
  sub(o: Operand): Tensor {
    return new Tensor(native.sub(this.handle, raw(o)));
  }
  mul(o: Operand): Tensor {
    return new Tensor(native.mul(this.handle, raw(o)));
  }
  div(o: Operand): Tensor {
    return new Tensor(native.div(this.handle, raw(o)));
  }
  pow(o: Operand): Tensor {
    return new Tensor(native.pow(this.handle, raw(o)));
  }
  remainder(o: Operand): Tensor {
    return new Tensor(native.remainder(this.handle, raw(o)));
  }
  maximum(o: Tensor): Tensor {
    return new Tensor(native.maximum(this.handle, o.handle));
  }
  minimum(o: Tensor): Tensor {
    return new Tensor(native.minimum(this.handle, o.handle));
  }
  matmul(o: Tensor): Tensor {
    return new Tensor(native.matmul(this.handle, o.handle));
  }
  neg(): Tensor {
    return new Tensor(native.neg(this.handle));
  }
  abs(): Tensor {
    return new Tensor(native.abs(this.handle));
  }
  exp(): Tensor {
    return new Tensor(native.exp(this.handle));
  }
  log(): Tensor {
    return new Tensor(native.log(this.handle));
  }
  log1p(): Tensor {
    return new Tensor(native.log1p(this.handle));
  }
  sqrt(): Tensor {
    return new Tensor(native.sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return new Tensor(native.rsqrt(this.handle));
  }
  square(): Tensor {
    return new Tensor(native.square(this.handle));
  }
  reciprocal(): Tensor {
    return new Tensor(native.reciprocal(this.handle));
  }
  sign(): Tensor {
    return new Tensor(native.sign(this.handle));
  }
  floor(): Tensor {
    return new Tensor(native.floor(this.handle));
  }
  ceil(): Tensor {
    return new Tensor(native.ceil(this.handle));
  }
  round(): Tensor {
    return new Tensor(native.round(this.handle));
  }
  clamp(min: number | null, max: number | null = null): Tensor {
    return new Tensor(native.clamp(this.handle, min, max));
  }
  relu(): Tensor {
    return new Tensor(native.relu(this.handle));
  }
  sigmoid(): Tensor {
    return new Tensor(native.sigmoid(this.handle));
  }
  tanh(): Tensor {
    return new Tensor(native.tanh(this.handle));
  }
  softmax(dim: number): Tensor {
    return new Tensor(native.softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return new Tensor(native.logSoftmax(this.handle, dim));
  }

  // ----- comparisons and logic -----
  eq(o: Operand): Tensor {
    return new Tensor(native.eq(this.handle, raw(o)));
  }
  ne(o: Operand): Tensor {
    return new Tensor(native.ne(this.handle, raw(o)));
  }
  lt(o: Operand): Tensor {
    return new Tensor(native.lt(this.handle, raw(o)));
  }
  le(o: Operand): Tensor {
    return new Tensor(native.le(this.handle, raw(o)));
  }
  gt(o: Operand): Tensor {
    return new Tensor(native.gt(this.handle, raw(o)));
  }
  ge(o: Operand): Tensor {
    return new Tensor(native.ge(this.handle, raw(o)));
  }
  logicalNot(): Tensor {
    return new Tensor(native.logicalNot(this.handle));
  }
  logicalAnd(o: Tensor): Tensor {
    return new Tensor(native.logicalAnd(this.handle, o.handle));
  }
  logicalOr(o: Tensor): Tensor {
    return new Tensor(native.logicalOr(this.handle, o.handle));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return new Tensor(native.maskedFill(this.handle, mask.handle, value));
  }

  // ----- reductions (dims omitted: over everything; with keepdim, every dim kept as size 1) -----
  sum(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.sum(this.handle, this.#reduced(dims, keepdim), keepdim));
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.mean(this.handle, this.#reduced(dims, keepdim), keepdim));
  }
  amax(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.amax(this.handle, this.#reduced(dims, keepdim), keepdim));
  }
  amin(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.amin(this.handle, this.#reduced(dims, keepdim), keepdim));
  }
  var(dims?: number | number[], options: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    const keepdim = options.keepdim ?? false;
    return new Tensor(
      native.var(this.handle, this.#reduced(dims, keepdim), options.unbiased ?? true, keepdim),
    );
  }
  /** The dims a reduction runs over: every one, named, when none are given but keepdim asks to keep them. */
  #reduced(dims: number | number[] | undefined, keepdim: boolean): number[] | null {
    if (dims === undefined && keepdim) return Array.from({ length: this.ndim }, (_, d) => d);
    return dimsOrNull(dims);
  }
  std(dims?: number | number[], options: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    const v = this.var(dims, options);
    try {
      return v.sqrt();
    } finally {
      v.dispose();
    }
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmin(this.handle, dim ?? null, keepdim));
  }
  cumsum(dim: number): Tensor {
    return new Tensor(native.cumsum(this.handle, dim));
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.sort(this.handle, dim, descending);
    return { values: new Tensor(v), indices: new Tensor(i) };
  }

  // ----- shape and indexing -----
  reshape(...shape: number[]): Tensor {
    return new Tensor(native.reshape(this.handle, shape));
  }
  view(...shape: number[]): Tensor {
    return this.reshape(...shape);
  }
  permute(...dims: number[]): Tensor {
    return new Tensor(native.permute(this.handle, dims));
  }
  transpose(d0: number, d1: number): Tensor {
    return new Tensor(native.transpose(this.handle, d0, d1));
  }
  /**
   * The same values laid out densely: row-major (NCHW) by default, or NHWC strides with 'channels_last' (4-d
   * tensors), which oneDNN convolutions read and write without reordering.
   */
  contiguous(memoryFormat: 'contiguous' | 'channels_last' = 'contiguous'): Tensor {
    if (memoryFormat === 'contiguous') return new Tensor(native.contiguous(this.handle));
    return new Tensor(native.contiguousAs(this.handle, memoryFormat));
  }
  /** Whether the elements are laid out NHWC (channels_last); data() always reads them back row-major. */
  get isChannelsLast(): boolean {
    return native.isChannelsLast(this.handle);
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(native.squeeze(this.handle, dim ?? null));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this.handle, dim));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return new Tensor(native.flatten(this.handle, startDim, endDim));
  }
  expand(...shape: number[]): Tensor {
    return new Tensor(native.expand(this.handle, shape));
  }
  repeat(...reps: number[]): Tensor {
    return new Tensor(native.repeat(this.handle, reps));
  }
  /** x[..., start:end:step] along dim, as a view. Negative indices count from the end. */
  slice(dim: number, start = 0, end = Number.MAX_SAFE_INTEGER, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start, end, step));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return this.slice(dim, start, start + length);
  }
  select(dim: number, index: number): Tensor {
    return new Tensor(native.select(this.handle, dim, index));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(native.gather(this.handle, dim, index.handle));
  }
  maskedSelect(mask: Tensor): Tensor {
    return new Tensor(native.maskedSelect(this.handle, mask.handle));
  }
  flip(...dims: number[]): Tensor {
    return new Tensor(native.flip(this.handle, dims));
  }
  rot90(k = 1, dims: [number, number] = [-2, -1]): Tensor {
    return new Tensor(native.rot90(this.handle, k, dims));
  }
  oneHot(classes: number): Tensor {
    return new Tensor(native.oneHot(this.handle, classes));
  }
  clone(): Tensor {
    return new Tensor(native.clone(this.handle));
  }
  /** Converts to a dtype ('float32', 'int64', ...) or moves to a device ('cpu', 'cuda', ...). */
  to(target: DType | Device): Tensor {
    return isDType(target)
      ? new Tensor(native.toDtype(this.handle, target))
      : new Tensor(native.toDevice(this.handle, target));
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }

  // ----- in place, never recorded by autograd -----
  copy_(src: Tensor): this {
    native.copy_(this.handle, src.handle);
    return this;
  }
  fill_(value: number): this {
    native.fill_(this.handle, value);
    return this;
  }
  zero_(): this {
    return this.fill_(0);
  }
  add_(other: Operand, alpha = 1): this {
    native.add_(this.handle, raw(other), alpha);
    return this;
  }
  mul_(other: Operand): this {
    native.mul_(this.handle, raw(other));
    return this;
  }
  uniform_(low = 0, high = 1): this {
    native.uniform_(this.handle, low, high);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    native.normal_(this.handle, mean, std);
    return this;
  }

  toString(): string {
    if (this.#disposed) return 'Tensor(disposed)';
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }
}

const DTYPES = new Set<string>([
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint8',
  'bool',
]);
function isDType(s: string): s is DType {
  return DTYPES.has(s);
}

function dimsOrNull(dims: number | number[] | undefined): number[] | null {
  if (dims === undefined) return null;
  return typeof dims === 'number' ? [dims] : dims;
}
