// Several inference workers behind one InferenceService, the cores split between them: on a small machine two
// one-thread workers answer single-slice requests faster than one two-thread worker, whose threads wait on each
// other in every small layer. Each job goes to the worker with the fewest jobs in hand; memory grows with the
// workers (each holds both models), so their number is the operator's choice (`serve --workers`).

import { type InferenceService, type Progress, WorkerInference } from './inference-service.ts';
import type { ModelsInfo } from './model-info.ts';
import type { ModelRole, PredictJob, WorkerOptions } from './worker-protocol.ts';

export class InferencePool implements InferenceService {
  /** Jobs given to each worker and not answered yet. */
  readonly #inHand: number[];

  /** Services that each answer predictions on their own (the workers; tests give stand-ins). */
  constructor(readonly workers: readonly InferenceService[]) {
    if (workers.length === 0) throw new RangeError('a pool needs at least one worker');
    this.#inHand = workers.map(() => 0);
  }

  /**
   * `count` workers of `options`; resolves once all have loaded the models. The first starts alone, so that an
   * `auto` backend measures on a quiet machine and the others find its measurement in the cache.
   */
  static async start(count: number, options: WorkerOptions): Promise<InferencePool> {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`workers must be an integer ≥ 1`);
    const first = await WorkerInference.start(options);
    const others = await Promise.allSettled(
      Array.from({ length: count - 1 }, () => WorkerInference.start(options)),
    );
    const failed = others.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(
        [first, ...others.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))].map((w) => w.close()),
      );
      throw failed.reason;
    }
    return new InferencePool([
      first,
      ...others.map((s) => (s as PromiseFulfilledResult<WorkerInference>).value),
    ]);
  }

  get models(): ModelsInfo {
    return this.workers[0]!.models;
  }

  get backends(): readonly string[] | undefined {
    return this.workers[0]!.backends;
  }

  get concurrency(): number {
    return this.workers.reduce((sum, w) => sum + (w.concurrency ?? 1), 0);
  }

  get progress(): Progress | undefined {
    for (const w of this.workers) if (w.progress) return w.progress;
    return undefined;
  }

  async predict(job: PredictJob): Promise<Uint8Array> {
    let k = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.#inHand[i]! < this.#inHand[k]!) k = i;
    this.#inHand[k]!++;
    try {
      return await this.workers[k]!.predict(job);
    } finally {
      this.#inHand[k]!--;
    }
  }

  onnx(role: ModelRole): Promise<Uint8Array> {
    const worker = this.workers[0]!;
    if (!worker.onnx) throw new Error('this inference service cannot export its models');
    return worker.onnx(role);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
