// A bounded FIFO in front of the inference worker: one job runs at a time (libtorch already uses every core for
// one batch, so running two only makes both slower), at most `limit` wait, and the rest are refused at once, so
// that an overloaded server answers 503 quickly instead of holding uploads in memory without bound.

import type { QueueState } from './api-schema.ts';

/** Thrown by JobQueue.run when `limit` jobs are already waiting. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

export class JobQueue {
  #running = false;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`queue limit must be an integer >= 0`);
  }

  get state(): QueueState {
    return { running: this.#running ? 1 : 0, waiting: this.#waiting.length, limit: this.limit };
  }

  /** Whether a job submitted now would be refused: checked before reading an upload, so a refusal is cheap. */
  get full(): boolean {
    return this.#running && this.#waiting.length >= this.limit;
  }

  /** Runs `job` when every earlier job has finished; throws QueueFullError at once when the queue is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running) {
      if (this.#waiting.length >= this.limit) {
        throw new QueueFullError(`the prediction queue is full (${this.limit} waiting); try again shortly`);
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running = true;
    try {
      return await job();
    } finally {
      // Hand the slot straight to the next job (still "running"), or free it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running = false;
    }
  }
}
