// One network shared by predictions that run at the same time (the server's worker): the calls that arrive
// while the event loop turns are joined into one network batch, up to a number of slices, and each caller gets
// its own rows back. A batch of eight single-slice requests costs far less than eight batches of one, and the
// answers are the same, since an inference network treats each slice of a batch on its own (eval mode, batch
// norms folded). Platform-free, as the core is.

/** Planar input [n, C, H, W] in, n rows of output out (any number of values per row). */
export type Network = (input: Float32Array, n: number) => Promise<Float32Array>;

interface Call {
  input: Float32Array;
  n: number;
  resolve: (output: Float32Array) => void;
  reject: (err: unknown) => void;
}

/** The next turn of the event loop, after what is already waiting to run (I/O, messages, timers). */
const nextTurn: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

export interface BatchedNetwork extends Network {
  /** Network calls made so far, and the caller calls they answered. */
  readonly stats: { networkCalls: number; calls: number };
}

/**
 * `run` behind a gatherer: calls wait for the next turn of the event loop (or until `maxSlices` slices are
 * waiting), then run as one batch of up to `maxSlices` slices, whole calls in arrival order (a call larger than
 * that runs alone). One network call at a time; calls that arrive meanwhile form the next batch.
 */
export function batchedNetwork(run: Network, maxSlices: number): BatchedNetwork {
  if (!Number.isSafeInteger(maxSlices) || maxSlices < 1)
    throw new RangeError(`a batch of at most ${maxSlices} slices: an integer ≥ 1 is needed`);
  const waiting: Call[] = [];
  const stats = { networkCalls: 0, calls: 0 };
  let draining = false;

  /** The calls of the next batch, taken off the queue. */
  function nextBatch(): Call[] {
    const batch = [waiting.shift()!];
    let slices = batch[0]!.n;
    while (waiting.length > 0 && slices + waiting[0]!.n <= maxSlices) {
      slices += waiting[0]!.n;
      batch.push(waiting.shift()!);
    }
    return batch;
  }

  async function runBatch(batch: Call[]): Promise<void> {
    const n = batch.reduce((sum, c) => sum + c.n, 0);
    let input = batch[0]!.input;
    if (batch.length > 1) {
      input = new Float32Array(batch.reduce((sum, c) => sum + c.input.length, 0));
      let at = 0;
      for (const c of batch) {
        input.set(c.input, at);
        at += c.input.length;
      }
    }
    stats.networkCalls++;
    stats.calls += batch.length;
    let output: Float32Array;
    try {
      output = await run(input, n);
      if (output.length % n !== 0)
        throw new RangeError(`the network returned ${output.length} values for ${n} slices`);
    } catch (err) {
      for (const c of batch) c.reject(err);
      return;
    }
    const row = output.length / n;
    let at = 0;
    for (const c of batch) {
      // A copy for a shared batch, so that one caller's result does not keep the others' alive.
      c.resolve(batch.length === 1 ? output : output.slice(at * row, (at + c.n) * row));
      at += c.n;
    }
  }

  async function drain(): Promise<void> {
    draining = true;
    try {
      while (waiting.length > 0) {
        const slices = waiting.reduce((sum, c) => sum + c.n, 0);
        if (slices < maxSlices) await nextTurn();
        await runBatch(nextBatch());
      }
    } finally {
      draining = false;
    }
  }

  const network = ((input: Float32Array, n: number) =>
    new Promise<Float32Array>((resolve, reject) => {
      waiting.push({ input, n, resolve, reject });
      if (!draining) void drain();
    })) as BatchedNetwork;
  Object.defineProperty(network, 'stats', { value: stats });
  return network;
}
