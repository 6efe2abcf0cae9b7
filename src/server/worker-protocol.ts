// The messages between the server and its inference worker. Uploads go in and the finished JSON body comes out,
// both as transferred ArrayBuffers, so that the server thread neither copies nor serialises large data.
import type { BackendSetting } from '../export/backend-choice.ts';
import type { GateChoice } from '../postprocess/fusion.ts';
import type { ModelsInfo } from './model-info.ts';
import type { Upload } from './uploads.ts';

export interface WorkerOptions {
  /** Model base paths; the shipped models/ when absent. */
  classifier?: string;
  segmenter?: string;
  /** The fusion rule to use instead of the one saved with the models (`serve --gate`). */
  gate?: GateChoice;
  /** libtorch threads in the worker (default: libtorch's own, every core). */
  threads?: number;
  /** Slices per inference batch; also the most slices of shared batches (see `concurrent`). */
  batch?: number;
  /** What runs the networks (`serve --backend`; default libtorch). */
  backend?: BackendSetting;
  /** Where ONNX exports and `auto`'s measurements are kept (default: backend-runners.ts' defaultCacheDir). */
  cacheDir?: string;
  /**
   * Predictions the worker runs at once (default 1): their network calls are joined into shared batches of up to
   * `batch` slices (inference/batched-network.ts), so that single-slice requests do not each pay for a batch.
   */
  concurrent?: number;
  /** Cap on what one request's zips may unpack to. */
  maxUnpackedBytes: number;
  /** Cap on one request's slices (default DEFAULT_LIMITS.maxSlices). */
  maxSlices?: number;
}

/**
 * What the worker starts with: the options, and a flag the server raises (Atomics) when it shuts down. The worker
 * cannot read messages while libtorch runs a prediction, but it reads the flag before each batch and stops there;
 * ending the thread while libtorch runs in it would abort the whole process.
 */
export interface WorkerData extends WorkerOptions {
  stop: SharedArrayBuffer;
}

export interface PredictJob {
  uploads: Upload[];
  /** Add each input slice as a PNG data URI (`include=image`). */
  includeImage: boolean;
  /** For a patient sent as volumes, add the input volume as NIfTI (`include=volume`). */
  includeVolume?: boolean;
}

/** One of the two models. */
export type ModelRole = 'classifier' | 'segmenter';

export type ToWorker =
  | { type: 'predict'; id: number; job: PredictJob }
  /** The model as an ONNX file (answered with `result`, the file's bytes as the body). */
  | { type: 'export'; id: number; role: ModelRole };

export type FromWorker =
  /** `backends`: a line per stage saying which engine runs it (backend-runners.ts). */
  | { type: 'ready'; models: ModelsInfo; backends: string[] }
  | { type: 'failed'; message: string }
  /** How far a prediction is, in slices (see predictSlices' onProgress). */
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'result'; id: number; body: Uint8Array }
  | { type: 'error'; id: number; status: number; message: string };
