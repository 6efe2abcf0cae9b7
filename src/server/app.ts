// The HTTP routes: the JSON API under /api/ and the viewer's static files everywhere else. Every API error is
// `{ error }` with a message naming the file and the problem (http-error.ts); uploads stay in memory and are
// dropped with the response.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HttpError } from './http-error.ts';
import type { InferenceService } from './inference-service.ts';
import { JobQueue, QueueFullError } from './job-queue.ts';
import { formatBytes, type ServerLimits } from './limits.ts';
import { boundaryOf, isFormData, parseMultipart } from './multipart.ts';
import { staticFiles } from './static-files.ts';
import { readUploads } from './uploads.ts';
import type { ModelRole } from './worker-protocol.ts';

export interface AppOptions {
  inference: InferenceService;
  limits: ServerLimits;
  /** The built viewer (web/dist). */
  webRoot: string;
  /** One line per API request, when given. */
  log?: (line: string) => void;
}

export interface ServerApp {
  app: Hono;
  queue: JobQueue;
}

export function createApp(options: AppOptions): ServerApp {
  const { inference, limits, log } = options;
  const queue = new JobQueue(limits.queueLimit, inference.concurrency ?? 1);
  const app = new Hono();

  const busy = () =>
    new HttpError(
      503,
      `the server is busy: ${queue.state.waiting} predictions are waiting; try again shortly`,
    );

  if (log) {
    app.use('/api/*', async (c, next) => {
      const started = performance.now();
      await next();
      log(`${c.req.method} ${c.req.path} ${c.res.status} ${(performance.now() - started).toFixed(0)} ms`);
    });
  }

  app.get('/api/health', (c) => {
    // The running prediction's progress in slices, once its uploads are decoded.
    const progress = inference.progress;
    return c.json({ status: 'ok', queue: queue.state, ...(progress ? { prediction: progress } : {}) });
  });

  app.get('/api/models', (c) => c.json(inference.models));

  // The models as ONNX files, for the viewer's in-browser inference (onnxruntime-web): exported from the loaded
  // models on first request and kept in memory. Their metadata carries preprocessing, thresholds and
  // post-processing (src/export).
  app.get('/api/models/:file', async (c) => {
    const role = /^(classifier|segmenter)\.onnx$/.exec(c.req.param('file'))?.[1] as ModelRole | undefined;
    if (!role || !inference.onnx) {
      const error = `no model file ${c.req.path}; there are /api/models/classifier.onnx and /api/models/segmenter.onnx`;
      return c.json({ error }, 404);
    }
    const file = await inference.onnx(role);
    return c.body(file as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${inference.models[role].name}-${role}.onnx"`,
      'Cache-Control': 'no-cache',
    });
  });

  app.post(
    '/api/predict',
    // Refused before the body is read: an overloaded server should not buffer uploads it cannot run.
    async (_c, next) => {
      if (queue.full) throw busy();
      await next();
    },
    // By Content-Length before reading anything, or counted while a chunked body streams in.
    bodyLimit({
      maxSize: limits.maxBodyBytes,
      onError: () => {
        throw new HttpError(
          413,
          `the request body is larger than the ${formatBytes(limits.maxBodyBytes)} limit`,
        );
      },
    }),
    async (c) => {
      const type = c.req.header('content-type') ?? '';
      // Another media type is 415 (Unsupported Media Type); a form without its boundary is malformed, 400.
      if (!isFormData(type)) {
        throw new HttpError(
          415,
          `send the slices as multipart/form-data (field 'files'), not ${type || 'a body without Content-Type'}`,
        );
      }
      const boundary = boundaryOf(type);
      if (!boundary) {
        throw new HttpError(400, `multipart/form-data without a usable boundary parameter: ${type}`);
      }
      // Read whole (bodyLimit has capped it), then split natively: see multipart.ts.
      const uploads = readUploads(parseMultipart(new Uint8Array(await c.req.arrayBuffer()), boundary));
      const include = (c.req.query('include') ?? '').split(',');
      const job = {
        uploads,
        includeImage: include.includes('image'),
        includeVolume: include.includes('volume'),
      };
      let answer: Uint8Array;
      try {
        answer = await queue.run(() => inference.predict(job));
      } catch (err) {
        if (err instanceof QueueFullError) throw busy();
        throw err;
      }
      return c.body(answer as Uint8Array<ArrayBuffer>, 200, {
        'Content-Type': 'application/json; charset=utf-8',
      });
    },
  );

  app.all('/api/*', (c) => c.json({ error: `no API route ${c.req.method} ${c.req.path}` }, 404));
  // Hono answers HEAD with the GET route, less the body.
  app.get('*', staticFiles(options.webRoot));

  app.onError((err, c) => {
    if (err instanceof HttpError) {
      if (err.status === 503) c.header('Retry-After', String(limits.retryAfterSeconds));
      return c.json({ error: err.message }, err.status);
    }
    log?.(`error: ${err.stack ?? err.message}`);
    return c.json({ error: `internal error: ${err.message}` }, 500);
  });

  return { app, queue };
}
