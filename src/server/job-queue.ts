// A bounded FIFO in front of the inference worker(s): `concurrency` jobs run at a time (one by default: libtorch
// already uses every core for one batch; more where the worker joins their network calls into shared batches or
// several workers split the cores), at most `limit` wait, and the rest are refused at once, so that an
// overloaded server answers 503 quickly instead of holding uploads in memory without bound.

import type { QueueState } from './api-schema.ts';

/** Thrown by JobQueue.run when `limit` jobs are already waiting. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

export class JobQueue {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(
    readonly limit: number,
    readonly concurrency = 1,
  ) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`queue limit must be an integer >= 0`);
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`jobs at a time must be an integer >= 1`);
  }

  get state(): QueueState {
    return { running: this.#running, waiting: this.#waiting.length, limit: this.limit };
  }

  /** Whether a job submitted now would be refused: checked before reading an upload, so a refusal is cheap. */
  get full(): boolean {
    return this.#running >= this.concurrency && this.#waiting.length >= this.limit;
  }

  /** Runs `job` once a slot is free, in arrival order; throws QueueFullError at once when the queue is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.limit) {
        throw new QueueFullError(`the prediction queue is full (${this.limit} waiting); try again shortly`);
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#running++;
    try {
      return await job();
    } finally {
      // Hand the slot straight to the next job (still counted as running), or free it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
