// The inference worker (node:worker_threads): loads both models once, then answers prediction jobs with the
// finished JSON body (predict-response.ts): one at a time, or as many as the server sends at once (`concurrent`),
// their network calls joined into shared batches. libtorch and all decoding and encoding run here, off the
// server's event loop. The addon is a Node-API module, so it loads in a worker as in the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { setNumThreads } from '../engine/index.ts';
import { inferenceBackends } from '../export/backend-runners.ts';
import { exportModelToOnnx } from '../export/index.ts';
import { batchedNetwork } from '../inference/batched-network.ts';
import type { TwoStageModels } from '../inference/two-stage.ts';
import { INFERENCE_BATCH, loadModels } from '../pipeline/default-models.ts';
import type { LoadedModels } from '../pipeline/load-model.ts';
import { type FusionConfig, resolveGate } from '../postprocess/fusion.ts';
import { HttpError, SHUTTING_DOWN } from './http-error.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { type ModelsInfo, modelsInfo } from './model-info.ts';
import { predictResponse } from './predict-response.ts';
import type { FromWorker, ToWorker, WorkerData } from './worker-protocol.ts';

const port = parentPort!;
const options = workerData as WorkerData;
const stop = new Int32Array(options.stop);
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let models: LoadedModels;
let runners: TwoStageModels;
let gate: FusionConfig;
let info: ModelsInfo;
try {
  if (options.threads) setNumThreads(options.threads);
  models = loadModels({
    ...(options.classifier ? { classifier: options.classifier } : {}),
    ...(options.segmenter ? { segmenter: options.segmenter } : {}),
  });
  const batch = options.batch ?? INFERENCE_BATCH;
  const backends = await inferenceBackends(models, {
    backend: options.backend ?? 'torch',
    batch,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
  runners = backends.runners;
  if ((options.concurrent ?? 1) > 1) {
    // Predictions running at once share their network calls (batched-network.ts).
    runners = {
      classifier: { ...runners.classifier, run: batchedNetwork(runners.classifier.run, batch) },
      segmenter: { ...runners.segmenter, run: batchedNetwork(runners.segmenter.run, batch) },
    };
  }
  gate = resolveGate(models.segmenter.fusion, models.classifier.config.threshold, options.gate);
  info = modelsInfo(models, gate);
  post({ type: 'ready', models: info, backends: backends.description });
} catch (err) {
  post({ type: 'failed', message: (err as Error).message });
  process.exit(1);
}

port.on('message', async (message: ToWorker) => {
  const { id } = message;
  try {
    if (message.type === 'export') {
      // From the models already loaded here, so the file is exactly what /api/predict runs.
      const file = exportModelToOnnx(models[message.role]);
      post({ type: 'result', id, body: file }, [file.buffer as ArrayBuffer]);
      return;
    }
    const body = await predictResponse(runners, info, message.job, {
      fusion: gate,
      maxUnpackedBytes: options.maxUnpackedBytes,
      maxSlices: options.maxSlices ?? DEFAULT_LIMITS.maxSlices,
      ...(options.batch ? { batch: options.batch } : {}),
      onProgress: (done, total) => post({ type: 'progress', id, done, total }),
      beforeBatch: () => {
        if (Atomics.load(stop, 0) !== 0) throw new HttpError(503, SHUTTING_DOWN);
      },
    });
    post({ type: 'result', id, body }, [body.buffer as ArrayBuffer]);
  } catch (err) {
    const status = err instanceof HttpError ? err.status : 500;
    const what = message.type === 'export' ? `ONNX export of the ${message.role}` : 'prediction';
    const text = status === 500 ? `${what} failed: ${(err as Error).message}` : (err as Error).message;
    post({ type: 'error', id, status, message: text });
  }
});
