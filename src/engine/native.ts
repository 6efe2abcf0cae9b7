// Loads the libtorch addon (native/) and declares its surface. Nothing outside src/engine imports this file:
// the rest of tumorscope sees Tensor, Module and friends.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque handle to a libtorch tensor held by the addon. */
export type Handle = { readonly __brand: 'TensorHandle' };
type H = Handle;
/** An opaque handle to a c10d process group (see distributed.ts). */
export type GroupHandle = { readonly __brand: 'GroupHandle' };
type HOrNum = Handle | number;
type Opt<T> = T | null;

export interface NativeBinding {
  fromArray(data: ArrayBufferView, shape: number[], dtype: string, device?: string): H;
  toArray(t: H): [ArrayBuffer, string];
  /** The stored bytes in the tensor's own dtype (float16 stays 2 bytes per element). */
  toBits(t: H): ArrayBuffer;
  full(shape: number[], value: number, dtype?: string, device?: string): H;
  rand(shape: number[], dtype?: string, device?: string): H;
  randn(shape: number[], dtype?: string, device?: string): H;
  randint(low: number, high: number, shape: number[], dtype?: string, device?: string): H;
  randperm(n: number): H;
  arange(start: number, end: number, step: number, dtype?: string, device?: string): H;
  linspace(start: number, end: number, steps: number, dtype?: string, device?: string): H;
  eye(n: number, dtype?: string, device?: string): H;
  shape(t: H): number[];
  dtype(t: H): string;
  device(t: H): string;
  isContiguous(t: H): boolean;
  item(t: H): number;
  dispose(t: H): void;
  isDisposed(t: H): boolean;
  sharesStorage(a: H, b: H): boolean;

  neg(t: H): H;
  abs(t: H): H;
  exp(t: H): H;
  log(t: H): H;
  log1p(t: H): H;
  sqrt(t: H): H;
  rsqrt(t: H): H;
  square(t: H): H;
  reciprocal(t: H): H;
  sign(t: H): H;
  floor(t: H): H;
  ceil(t: H): H;
  round(t: H): H;
  logicalNot(t: H): H;
  clone(t: H): H;
  detach(t: H): H;
  contiguous(t: H): H;
  contiguousAs(t: H, format: 'channels_last' | 'contiguous'): H;
  isChannelsLast(t: H): boolean;
  add(a: H, b: HOrNum): H;
  sub(a: H, b: HOrNum): H;
  mul(a: H, b: HOrNum): H;
  div(a: H, b: HOrNum): H;
  pow(a: H, b: HOrNum): H;
  remainder(a: H, b: HOrNum): H;
  eq(a: H, b: HOrNum): H;
  ne(a: H, b: HOrNum): H;
  lt(a: H, b: HOrNum): H;
  le(a: H, b: HOrNum): H;
  gt(a: H, b: HOrNum): H;
  ge(a: H, b: HOrNum): H;
  maximum(a: H, b: H): H;
  minimum(a: H, b: H): H;
  logicalAnd(a: H, b: H): H;
  logicalOr(a: H, b: H): H;
  matmul(a: H, b: H): H;
  sum(t: H, dims: Opt<number[]>, keepdim: boolean): H;
  mean(t: H, dims: Opt<number[]>, keepdim: boolean): H;
  amax(t: H, dims: Opt<number[]>, keepdim: boolean): H;
  amin(t: H, dims: Opt<number[]>, keepdim: boolean): H;
  var(t: H, dims: Opt<number[]>, unbiased: boolean, keepdim: boolean): H;
  argmax(t: H, dim: Opt<number>, keepdim: boolean): H;
  argmin(t: H, dim: Opt<number>, keepdim: boolean): H;
  cumsum(t: H, dim: number): H;
  sort(t: H, dim: number, descending: boolean): [H, H];
  clamp(t: H, min: Opt<number>, max: Opt<number>): H;
  where(cond: H, a: HOrNum, b: HOrNum): H;
  maskedFill(t: H, mask: H, value: number): H;
  reshape(t: H, shape: number[]): H;
  permute(t: H, dims: number[]): H;
  transpose(t: H, d0: number, d1: number): H;
  squeeze(t: H, dim: Opt<number>): H;
  unsqueeze(t: H, dim: number): H;
  flatten(t: H, start: number, end: number): H;
  expand(t: H, shape: number[]): H;
  repeat(t: H, reps: number[]): H;
  slice(t: H, dim: number, start: number, end: number, step: number): H;
  select(t: H, dim: number, index: number): H;
  indexSelect(t: H, dim: number, index: H): H;
  gather(t: H, dim: number, index: H): H;
  maskedSelect(t: H, mask: H): H;
  cat(ts: H[], dim: number): H;
  stack(ts: H[], dim: number): H;
  flip(t: H, dims: number[]): H;
  rot90(t: H, k: number, dims: number[]): H;
  toDtype(t: H, dtype: string): H;
  toDevice(t: H, device: string): H;
  oneHot(t: H, classes: number): H;
  copy_(dst: H, src: H): void;
  fill_(t: H, value: number): void;
  add_(t: H, other: HOrNum, alpha?: number): void;
  mul_(t: H, other: HOrNum): void;
  uniform_(t: H, low: number, high: number): void;
  normal_(t: H, mean: number, std: number): void;

  conv2d(x: H, w: H, b: Opt<H>, stride: number[], padding: number[], dilation: number[], groups: number): H;
  onednnConv2d(
    x: H,
    w: H,
    b: Opt<H>,
    stride: number[],
    padding: number[],
    dilation: number[],
    groups: number,
  ): H;
  convTranspose2d(
    x: H,
    w: H,
    b: Opt<H>,
    stride: number[],
    padding: number[],
    outputPadding: number[],
    groups: number,
    dilation: number[],
  ): H;
  batchNorm(
    x: H,
    weight: Opt<H>,
    bias: Opt<H>,
    runningMean: Opt<H>,
    runningVar: Opt<H>,
    training: boolean,
    momentum: number,
    eps: number,
  ): H;
  linear(x: H, w: H, b: Opt<H>): H;
  relu(t: H): H;
  relu_(t: H): void;
  sigmoid(t: H): H;
  tanh(t: H): H;
  leakyRelu(t: H, slope: number): H;
  softmax(t: H, dim: number): H;
  logSoftmax(t: H, dim: number): H;
  maxPool2d(
    x: H,
    kernel: number[],
    stride: number[],
    padding: number[],
    dilation: number[],
    ceil: boolean,
  ): H;
  avgPool2d(x: H, kernel: number[], stride: number[], padding: number[], ceil: boolean, countPad: boolean): H;
  adaptiveAvgPool2d(x: H, size: number[]): H;
  interpolate(x: H, size: number[], mode: string, alignCorners: boolean): H;
  dropout(x: H, p: number, training: boolean): H;
  pad(x: H, pads: number[], mode: string, value: number): H;
  affineGrid(theta: H, size: number[], alignCorners: boolean): H;
  gridSample(x: H, grid: H, mode: string, padding: string, alignCorners: boolean): H;
  crossEntropy(logits: H, target: H, weight: Opt<H>, reduction: string, labelSmoothing: number): H;
  bceWithLogits(logits: H, target: H, weight: Opt<H>, posWeight: Opt<H>, reduction: string): H;
  mseLoss(a: H, b: H, reduction: string): H;
  nllLoss(logp: H, target: H, weight: Opt<H>, reduction: string): H;

  backward(t: H, grad: Opt<H>, retainGraph: Opt<boolean>): void;
  grad(t: H): Opt<H>;
  requiresGrad(t: H): boolean;
  setRequiresGrad(t: H, on: boolean): void;
  isLeaf(t: H): boolean;
  zeroGrads(ts: H[]): void;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  enterAutocast(): boolean;
  exitAutocast(previous: boolean): void;
  adamStep(
    params: H[],
    expAvg: H[],
    expAvgSq: H[],
    step: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
  ): void;
  sgdStep(
    params: H[],
    buffers: H[],
    lr: number,
    momentum: number,
    dampening: number,
    weightDecay: number,
    nesterov: boolean,
    firstStep: boolean,
  ): void;
  clipGradNorm(params: H[], maxNorm: number): number;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  cudaAvailable(): boolean;
  cudaDeviceCount(): number;
  buildInfo(): { version: string; config: string; parallel: string };

  joinGroup(
    masterAddr: string,
    masterPort: number,
    rank: number,
    worldSize: number,
    timeoutMs: number,
    deviceKind: 'interface' | 'hostname' | 'default',
    deviceValue: string,
  ): GroupHandle;
  allreduceSum(group: GroupHandle, ts: H[]): void;
  broadcast(group: GroupHandle, ts: H[], root: number): void;
  averageGradients(group: GroupHandle, params: H[], bucketSizes: number[]): void;
  barrier(group: GroupHandle): void;
  publish(group: GroupHandle, key: string, text: string): void;
  fetch(group: GroupHandle, key: string): string;
  closeGroup(group: GroupHandle): void;
  /** Whether the addon kept freed memory in the heap at load (see native/src/addon.cc). */
  readonly allocatorTuned: boolean;
}

function findAddon(): string {
  // src/engine/native.ts -> repo root -> native/build/Release
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const candidates = ['Release', 'Debug'].map((kind) =>
    join(root, 'native', 'build', kind, 'tumorscope_torch.node'),
  );
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `tumorscope: the libtorch addon is not built (looked for ${candidates[0]}). ` +
        'Run `bash scripts/setup.sh` (installs libtorch-dev, libgloo-dev and libopenblas0-openmp with apt, then builds it).',
    );
  }
  return found;
}

export const native: NativeBinding = createRequire(import.meta.url)(findAddon()) as NativeBinding;
