// Data-parallel training as PyTorch's DistributedDataParallel does it by default, on a c10d process group: every
// rank starts from rank 0's parameters and buffers; before each training forward rank 0's buffers (batch-norm
// running statistics) are copied to every rank (broadcast_buffers=True), while each rank normalises its batch
// with its own batch statistics (no SyncBatchNorm); after backward each gradient is replaced by its mean over the
// ranks, in buckets of about 25 MB (bucket_cap_mb). Rank 0 alone validates and writes files; what it decides
// reaches the other ranks through the group's messages (ProcessGroup.fromRank0).
import { type Module, type ProcessGroup, type Tensor, tensor } from '../engine/index.ts';
import type { TrainingData } from './training-data.ts';

/** DDP's bucket_cap_mb. */
export const DEFAULT_BUCKET_CAP_MB = 25;

/**
 * How many consecutive parameters go into each gradient bucket: buckets fill up to `capBytes`, and a parameter
 * larger than that gets a bucket of its own.
 */
export function gradientBuckets(bytes: readonly number[], capBytes: number): number[] {
  const sizes: number[] = [];
  let count = 0;
  let filled = 0;
  for (const b of bytes) {
    if (count > 0 && filled + b > capBytes) {
      sizes.push(count);
      count = 0;
      filled = 0;
    }
    count += 1;
    filled += b;
  }
  if (count > 0) sizes.push(count);
  return sizes;
}

const BYTES_PER_ELEMENT: Record<string, number> = { float16: 2, bfloat16: 2, float32: 4, float64: 8 };

export class DataParallel {
  readonly #capBytes: number;

  /** Joins `model` to the group: every rank takes rank 0's parameters and buffers (DDP's constructor). */
  constructor(
    readonly group: ProcessGroup,
    readonly model: Module,
    options: { bucketCapMb?: number } = {},
  ) {
    this.#capBytes = (options.bucketCapMb ?? DEFAULT_BUCKET_CAP_MB) * 1024 * 1024;
    this.broadcastFromRank0([]);
  }

  get rank(): number {
    return this.group.rank;
  }

  get worldSize(): number {
    return this.group.worldSize;
  }

  /** Rank 0 validates, writes checkpoints, logs and models. */
  get isRank0(): boolean {
    return this.group.rank === 0;
  }

  /** Rank 0's parameters, buffers and `extra` tensors (optimiser state on resume) into every rank. */
  broadcastFromRank0(extra: Tensor[]): void {
    const buffers = this.model.namedBuffers().map(([, t]) => t);
    this.group.broadcast([...this.model.parameters(), ...buffers, ...extra], 0);
  }

  /** Before each training forward: rank 0's buffers into every rank. */
  syncBuffers(): void {
    const buffers = this.model.namedBuffers().map(([, t]) => t);
    if (buffers.length > 0) this.group.broadcast(buffers, 0);
  }

  /**
   * After backward: each trainable parameter's gradient becomes its mean over the ranks. Buckets are filled in
   * reverse registration order, as DDP fills them (the order in which backward finishes gradients).
   */
  averageGradients(): void {
    const params = this.model
      .parameters()
      .filter((p) => p.requiresGrad)
      .reverse();
    const bytes = params.map((p) => p.numel * (BYTES_PER_ELEMENT[p.dtype] ?? 4));
    this.group.averageGradients(params, gradientBuckets(bytes, this.#capBytes));
  }

  /** The mean of `value` over the ranks (a batch's loss). */
  mean(value: number): number {
    const t = tensor(Float64Array.of(value));
    try {
      this.group.allreduceSum([t]);
      return t.item() / this.worldSize;
    } finally {
      t.dispose();
    }
  }
}

/**
 * Joins a stage's model to the group (undefined without one) and checks that every rank trains the same thing:
 * the same slices in the same split, and the same settings (`modelConfig` without the command line, which
 * differs by --rank).
 */
export function joinDataParallel(
  group: ProcessGroup | undefined,
  model: Module,
  data: Pick<TrainingData, 'cache' | 'train' | 'val'>,
  modelConfig: { training: Record<string, unknown> } & Record<string, unknown>,
): DataParallel | undefined {
  if (!group) return undefined;
  // Checked before the first broadcast, which ranks with different networks could not even match up.
  group.agree('the slices and their split', {
    slices: data.cache.count,
    train: fingerprint(data.train),
    val: fingerprint(data.val),
  });
  group.agree('the training settings', {
    ...modelConfig,
    training: { ...modelConfig.training, command: null },
  });
  return new DataParallel(group, model);
}

/** Count and FNV-1a hash of a list of indices. */
function fingerprint(indices: readonly number[]): string {
  let h = 0x811c9dc5;
  for (const i of indices) h = Math.imul(h ^ i, 0x01000193) >>> 0;
  return `${indices.length}:${h.toString(16)}`;
}
