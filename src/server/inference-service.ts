// The server's side of the inference worker (inference-worker.ts): starts it, waits until it has loaded the
// models, and turns each prediction into a promise of the response body. libtorch runs there, so the event loop
// here stays free for health checks, uploads and static files while a prediction runs. Closing never ends the
// thread while libtorch runs in it (that aborts the process): the worker is asked to stop between batches, and
// ended once it has answered everything it was given.
import { Worker } from 'node:worker_threads';
import { HttpError, SHUTTING_DOWN } from './http-error.ts';
import type { ModelsInfo } from './model-info.ts';
import type {
  FromWorker,
  ModelRole,
  PredictJob,
  ToWorker,
  WorkerData,
  WorkerOptions,
} from './worker-protocol.ts';

/** How far the running prediction is, in slices. */
export interface Progress {
  done: number;
  total: number;
}

/** What the HTTP layer needs from inference; tests wrap it to hold a job back. */
export interface InferenceService {
  readonly models: ModelsInfo;
  /** The JSON body of POST /api/predict's answer; rejects with an HttpError. */
  predict(job: PredictJob): Promise<Uint8Array>;
  /**
   * The model as an ONNX file (GET /api/models/<role>.onnx, for the viewer's in-browser inference); absent
   * where a service cannot export.
   */
  onnx?(role: ModelRole): Promise<Uint8Array>;
  /** The running prediction's progress, once its slices are decoded; absent where a service does not say. */
  readonly progress?: Progress | undefined;
  /** Predictions worth running at once (the job queue's slots); 1 when absent. */
  readonly concurrency?: number;
  /** Which engine runs each network, a line per stage; absent where a service does not say. */
  readonly backends?: readonly string[];
  /** Refuses new work, stops the running prediction between batches, and resolves once nothing runs. */
  close(): Promise<void>;
}

// The worker's file beside this one: .ts in a checkout, .js in the package's compiled dist/.
const WORKER_ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? './inference-worker.ts' : './inference-worker.js',
  import.meta.url,
).href;

/**
 * The worker runs TypeScript, but hooks that tsx registered here (bin/tumorscope.js calls tsx's register()) do
 * not reach a worker on Node 20, so the worker registers tsx itself before importing its entry.
 */
function bootstrap(): string {
  const tsx = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_ENTRY)}); });`;
}

/** A worker with its models loaded; rejects with the loader's error (naming the model file) otherwise. */
function spawn(data: WorkerData): Promise<{ worker: Worker; models: ModelsInfo; backends: string[] }> {
  // execArgv: [] so that a parent started with `--import tsx` does not register tsx a second time.
  const worker = new Worker(bootstrap(), { eval: true, workerData: data, execArgv: [] });
  return new Promise((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new Error(`the inference worker exited (code ${code}) while loading`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (message: FromWorker) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (message.type === 'ready') resolve({ worker, models: message.models, backends: message.backends });
      else {
        void worker.terminate();
        reject(new Error(message.type === 'failed' ? message.message : `unexpected ${message.type}`));
      }
    });
  });
}

export class WorkerInference implements InferenceService {
  readonly #pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  /** Undefined once the worker has died, until the next prediction starts another. */
  #worker: Worker | undefined;
  #restarting: Promise<Worker> | undefined;
  #closed = false;
  #progress: (Progress & { id: number }) | undefined;
  /** Resolves when the last pending job has been answered (see close). */
  #drained: (() => void) | undefined;
  /** Each model's ONNX file, exported on first request and kept (the models do not change while it runs). */
  readonly #onnx = new Map<ModelRole, Promise<Uint8Array>>();

  private constructor(
    private readonly data: WorkerData,
    worker: Worker,
    readonly models: ModelsInfo,
    readonly backends: readonly string[],
  ) {
    this.#adopt(worker);
  }

  /** Starts a worker and resolves once both models are loaded. */
  static async start(options: WorkerOptions): Promise<WorkerInference> {
    const data: WorkerData = { ...options, stop: new SharedArrayBuffer(4) };
    const { worker, models, backends } = await spawn(data);
    return new WorkerInference(data, worker, models, backends);
  }

  get concurrency(): number {
    return this.data.concurrent ?? 1;
  }

  get progress(): Progress | undefined {
    if (!this.#progress) return undefined;
    const { done, total } = this.#progress;
    return { done, total };
  }

  #settle(id: number): { resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    if (this.#progress?.id === id) this.#progress = undefined;
    if (this.#pending.size === 0) this.#drained?.();
    return pending;
  }

  #adopt(worker: Worker): void {
    this.#worker = worker;
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'progress') {
        if (this.#pending.has(message.id)) this.#progress = message;
        return;
      }
      if (message.type !== 'result' && message.type !== 'error') return;
      const pending = this.#settle(message.id);
      if (message.type === 'result') pending?.resolve(message.body);
      else pending?.reject(new HttpError(message.status as HttpError['status'], message.message));
    });
    const die = (why: string) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      for (const [id, { reject }] of [...this.#pending]) {
        this.#settle(id);
        reject(new HttpError(500, why));
      }
    };
    worker.on('error', (err) => die(`the inference worker failed: ${err.message}`));
    worker.on('exit', (code) =>
      die(`the inference worker stopped (exit code ${code}) during the prediction`),
    );
  }

  /**
   * The live worker. One that died (out of memory, say) is replaced by a fresh one that loads the models again,
   * so one bad job does not take the service down with it.
   */
  #live(): Promise<Worker> {
    if (this.#worker) return Promise.resolve(this.#worker);
    this.#restarting ??= spawn(this.data)
      .then(async ({ worker }) => {
        if (this.#closed) {
          await worker.terminate(); // idle: it has only loaded the models
          throw new HttpError(503, SHUTTING_DOWN);
        }
        this.#adopt(worker);
        return worker;
      })
      .finally(() => {
        this.#restarting = undefined;
      });
    return this.#restarting;
  }

  predict(job: PredictJob): Promise<Uint8Array> {
    // Transferred, not copied: the upload's bytes move to the worker.
    const transfer = [...new Set(job.uploads.map((u) => u.bytes.buffer as ArrayBuffer))];
    return this.#ask((id) => ({ type: 'predict', id, job }), transfer);
  }

  onnx(role: ModelRole): Promise<Uint8Array> {
    let file = this.#onnx.get(role);
    if (!file) {
      file = this.#ask((id) => ({ type: 'export', id, role }), []);
      // A failed export is not kept: the next request tries again.
      file.catch(() => this.#onnx.delete(role));
      this.#onnx.set(role, file);
    }
    return file;
  }

  /** Sends one job to the live worker and resolves with its answer's body. */
  async #ask(message: (id: number) => ToWorker, transfer: ArrayBuffer[]): Promise<Uint8Array> {
    if (this.#closed) throw new HttpError(503, SHUTTING_DOWN);
    let worker: Worker;
    try {
      worker = await this.#live();
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(500, `the inference worker could not be restarted: ${(err as Error).message}`);
    }
    if (this.#closed) throw new HttpError(503, SHUTTING_DOWN);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage(message(id), transfer);
    });
  }

  /** Ends the worker as a crash would (for tests of the restart). */
  async crash(): Promise<void> {
    await this.#worker?.terminate();
  }

  /**
   * Refuses new jobs, raises the stop flag (the running prediction answers 503 before its next batch), waits
   * until every job given to the worker has been answered, then ends the worker, which is idle by then.
   */
  async close(): Promise<void> {
    this.#closed = true;
    Atomics.store(new Int32Array(this.data.stop), 0, 1);
    if (this.#pending.size > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }
}
