// A process group on libtorch's distributed engine (c10d): rank 0 serves a TCPStore at the master address for
// the rendezvous and small messages, and a Gloo group carries the collectives between the ranks, as PyTorch's
// init_process_group('gloo') does. Every call blocks until the collective is done.
import { type GroupHandle, native } from './native.ts';
import type { Tensor } from './tensor.ts';

export interface GroupOptions {
  /** Where rank 0 serves the rendezvous (MASTER_ADDR). */
  masterAddr: string;
  /** MASTER_PORT; rank 0 listens on it. */
  masterPort: number;
  rank: number;
  worldSize: number;
  /** How long the rendezvous, a collective or a message may wait for a peer before failing. */
  timeoutSeconds: number;
}

/** A rendezvous, collective or message that failed: it names the operation, this rank and the timeout. */
export class DistributedError extends Error {
  override name = 'DistributedError';
  constructor(
    readonly operation: string,
    readonly rank: number,
    readonly worldSize: number,
    detail: string,
  ) {
    super(`rank ${rank} of ${worldSize}: ${operation} failed: ${detail}`);
  }
}

/** Where this rank's Gloo connections bind, chosen as PyTorch does, except that a loopback run stays on loopback. */
export type GlooDevice = { kind: 'interface' | 'hostname'; value: string } | { kind: 'default'; value: '' };

export function glooDevice(masterAddr: string, env: NodeJS.ProcessEnv = process.env): GlooDevice {
  // GLOO_SOCKET_IFNAME names the network interface, as for PyTorch (the first one when it lists several).
  const iface = env['GLOO_SOCKET_IFNAME']?.split(',')[0]?.trim();
  if (iface) return { kind: 'interface', value: iface };
  if (isLoopback(masterAddr)) return { kind: 'hostname', value: '127.0.0.1' };
  // The address this machine's hostname resolves to (loopback if it resolves to nothing).
  return { kind: 'default', value: '' };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

// JSON has no NaN or ±Infinity; metrics may be either.
const encodeNumbers = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isFinite(value) ? { nonFinite: String(value) } : value;
const decodeNumbers = (_key: string, value: unknown) =>
  value !== null && typeof value === 'object' && 'nonFinite' in value
    ? Number((value as { nonFinite: string }).nonFinite)
    : value;

export class ProcessGroup {
  #handle: GroupHandle | null;
  #messages = 0;

  private constructor(
    handle: GroupHandle,
    readonly rank: number,
    readonly worldSize: number,
    readonly timeoutSeconds: number,
  ) {
    this.#handle = handle;
  }

  /** Joins the group: returns once every rank has arrived, or throws after the timeout. */
  static join(o: GroupOptions): ProcessGroup {
    if (!Number.isInteger(o.worldSize) || o.worldSize < 1)
      throw new RangeError(`world size must be an integer ≥ 1, got ${o.worldSize}`);
    if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize)
      throw new RangeError(`rank must be an integer from 0 to ${o.worldSize - 1}, got ${o.rank}`);
    if (!Number.isInteger(o.masterPort) || o.masterPort < 1 || o.masterPort > 65535)
      throw new RangeError(`master port must be an integer from 1 to 65535, got ${o.masterPort}`);
    if (!(o.timeoutSeconds > 0)) throw new RangeError(`timeout must be above 0 s, got ${o.timeoutSeconds}`);
    const device = glooDevice(o.masterAddr);
    const where = `${o.masterAddr}:${o.masterPort}`;
    try {
      const handle = native.joinGroup(
        o.masterAddr,
        o.masterPort,
        o.rank,
        o.worldSize,
        Math.round(o.timeoutSeconds * 1000),
        device.kind,
        device.value,
      );
      return new ProcessGroup(handle, o.rank, o.worldSize, o.timeoutSeconds);
    } catch (err) {
      const role =
        o.rank === 0
          ? `serving the rendezvous at ${where}`
          : `joining the rendezvous that rank 0 serves at ${where}`;
      throw new DistributedError(
        role,
        o.rank,
        o.worldSize,
        `${(err as Error).message} (every rank must arrive within the timeout of ${o.timeoutSeconds} s)`,
      );
    }
  }

  /** Sums each tensor over the ranks, in place. */
  allreduceSum(tensors: Tensor[]): void {
    this.#run('allreduce', (h) =>
      native.allreduceSum(
        h,
        tensors.map((t) => t.handle),
      ),
    );
  }

  /** Copies rank `root`'s tensors into every rank's, in place. */
  broadcast(tensors: Tensor[], root = 0): void {
    this.#run('broadcast', (h) =>
      native.broadcast(
        h,
        tensors.map((t) => t.handle),
        root,
      ),
    );
  }

  /**
   * Replaces each parameter's gradient by its mean over the ranks. The parameters travel in buckets of
   * `bucketSizes[k]` consecutive parameters, each bucket as one flat tensor.
   */
  averageGradients(params: Tensor[], bucketSizes: number[]): void {
    this.#run('gradient allreduce', (h) =>
      native.averageGradients(
        h,
        params.map((p) => p.handle),
        bucketSizes,
      ),
    );
  }

  /** Returns when every rank has called it. */
  barrier(): void {
    this.#run('barrier', (h) => native.barrier(h));
  }

  /** Leaves a text under `key` for the other ranks (the key is set once per run). */
  publish(key: string, text: string): void {
    this.#run(`publishing '${key}'`, (h) => native.publish(h, key, text));
  }

  /** The text some rank published under `key`, waiting for it up to the timeout. */
  fetch(key: string): string {
    return this.#run(`waiting for '${key}'`, (h) => native.fetch(h, key));
  }

  /**
   * Rank 0 runs `compute`; every rank returns its result, as JSON through the store (the others wait for it up to
   * the timeout). Every rank must make the same calls in the same order.
   */
  fromRank0<T>(what: string, compute: () => T): T {
    const key = `${this.#messages++}:${what}`;
    if (this.rank === 0) {
      const value = compute();
      this.publish(key, JSON.stringify(value === undefined ? null : value, encodeNumbers));
      return value;
    }
    return JSON.parse(this.fetch(key), decodeNumbers) as T;
  }

  /** Fails on a rank whose `value` differs from rank 0's: what every rank must share (data, settings). */
  agree(what: string, value: unknown): void {
    const mine = JSON.stringify(value, encodeNumbers);
    const theirs = this.fromRank0(`agree ${what}`, () => mine);
    if (theirs !== mine)
      throw new Error(
        `rank ${this.rank}: ${what} differ from rank 0's; every rank must run the same command on the same data ` +
          `(rank 0: ${abbreviate(theirs)}; rank ${this.rank}: ${abbreviate(mine)})`,
      );
  }

  /** Closes the connections; rank 0 frees the master port. Safe to call twice. */
  close(): void {
    if (this.#handle) native.closeGroup(this.#handle);
    this.#handle = null;
  }

  #run<T>(operation: string, fn: (handle: GroupHandle) => T): T {
    if (!this.#handle) throw new Error(`${operation}: the process group is closed`);
    try {
      return fn(this.#handle);
    } catch (err) {
      throw new DistributedError(
        operation,
        this.rank,
        this.worldSize,
        `${(err as Error).message} (a peer process stopped, or did not answer within the timeout of ${this.timeoutSeconds} s)`,
      );
    }
  }
}

function abbreviate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
