// Starting and stopping the server: the routes of app.ts on a node:http server (@hono/node-server), with an
// inference worker of its own unless one is given (tests share one between servers with different limits).
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { BackendSetting } from '../export/backend-choice.ts';
import type { GateChoice } from '../postprocess/fusion.ts';
import { createApp } from './app.ts';
import { InferencePool } from './inference-pool.ts';
import { type InferenceService, WorkerInference } from './inference-service.ts';
import type { JobQueue } from './job-queue.ts';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.ts';

/** web/dist at the repository root, where `npm run build:web` puts the viewer. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** How long close() lets answers still being sent finish before it cuts their connections. */
const CLOSE_GRACE_MS = 5000;

export interface ServerOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Model base paths (the shipped models/ when absent), for the server's own worker. */
  classifier?: string;
  segmenter?: string;
  /** The fusion rule instead of the saved one (`serve --gate`). */
  gate?: GateChoice;
  /** libtorch threads in the worker; with several workers, the threads of them all, split evenly. */
  threads?: number;
  /** Slices per inference batch. */
  batch?: number;
  /** What runs the networks (default libtorch). */
  backend?: BackendSetting;
  /** Inference workers (default 1), each with both models and its share of the threads. */
  workers?: number;
  /** Predictions each worker runs at once, their network calls batched together (default 1). */
  concurrent?: number;
  limits?: Partial<ServerLimits>;
  /** Use this instead of starting a worker; it is not closed with the server. */
  inference?: InferenceService;
  webRoot?: string;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  inference: InferenceService;
  queue: JobQueue;
  /** Stops without dropping what runs: see inference.close(); resolves once every connection is closed. */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const owned = options.inference === undefined;
  const workers = options.workers ?? 1;
  const threads =
    workers > 1
      ? Math.max(1, Math.floor((options.threads ?? availableParallelism()) / workers))
      : options.threads;
  const workerOptions = {
    ...(options.classifier ? { classifier: options.classifier } : {}),
    ...(options.segmenter ? { segmenter: options.segmenter } : {}),
    ...(options.gate ? { gate: options.gate } : {}),
    ...(threads ? { threads } : {}),
    ...(options.batch ? { batch: options.batch } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.concurrent ? { concurrent: options.concurrent } : {}),
    maxUnpackedBytes: limits.maxUnpackedBytes,
    maxSlices: limits.maxSlices,
  };
  const inference =
    options.inference ??
    (workers > 1
      ? await InferencePool.start(workers, workerOptions)
      : await WorkerInference.start(workerOptions));
  const { app, queue } = createApp({
    inference,
    limits,
    webRoot: options.webRoot ?? WEB_DIST,
    ...(options.log ? { log: options.log } : {}),
  });
  const host = options.host ?? '127.0.0.1';
  let server: ReturnType<typeof serve>;
  const port = await new Promise<number>((resolve, reject) => {
    server = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: host }, (info: AddressInfo) =>
      resolve(info.port),
    );
    server.once('error', reject);
  });
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    inference,
    queue,
    async close() {
      // No new connections from here on; requests in flight get their answers (a running prediction stops at its
      // next batch and answers 503, waiting ones answer 503 at once).
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (owned) await inference.close();
      // Keep-alive connections would hold close() open until they time out: each is closed once it falls idle,
      // and whatever is still open after the grace period is cut.
      const http = 'closeIdleConnections' in server ? server : undefined;
      const sweep = setInterval(() => http?.closeIdleConnections(), 20);
      const grace = setTimeout(() => http?.closeAllConnections(), CLOSE_GRACE_MS);
      await closed;
      clearInterval(sweep);
      clearTimeout(grace);
    },
  };
}
