// `tumorscope serve`: the HTTP API (/api/health, /api/models, POST /api/predict) and the browser viewer
// (web/dist) on one port. Inference runs in a worker thread behind a bounded queue, so the server stays
// responsive while a prediction runs. Research tool, not a medical device.
import type { Command } from 'commander';
import { INFERENCE_BATCH } from '../../pipeline/default-models.ts';
import { describeGate } from '../../postprocess/fusion.ts';
import { DEFAULT_LIMITS } from '../../server/limits.ts';
import { startServer } from '../../server/server.ts';
import { gateChoice, type InferenceValues, inferenceOptions, integer } from '../options.ts';

/**
 * Predictions a worker runs at once by default: single-slice requests then share network batches (up to
 * --batch slices) instead of paying for one each.
 */
const SERVE_CONCURRENT = 4;

interface ServeValues extends InferenceValues {
  port: number;
  host: string;
  maxUploadMb: number;
  queue: number;
  workers: number;
  concurrent: number;
}

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .description('serve the prediction API and the browser viewer over HTTP')
    .option('--port <n>', 'port to listen on (0: any free port)', integer('--port', { max: 65535 }), 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1');
  inferenceOptions(command, { batch: INFERENCE_BATCH })
    .option(
      '--max-upload-mb <n>',
      'largest request body, in MB',
      integer('--max-upload-mb', { min: 1 }),
      DEFAULT_LIMITS.maxBodyBytes / (1024 * 1024),
    )
    .option(
      '--queue <n>',
      'predictions that may wait behind the running ones (more get 503)',
      integer('--queue'),
      DEFAULT_LIMITS.queueLimit,
    )
    .option(
      '--workers <n>',
      'inference workers, each with both models (memory grows with them) and an equal share of --threads',
      integer('--workers', { min: 1 }),
      1,
    )
    .option(
      '--concurrent <n>',
      'predictions each worker runs at once, their network calls joined into batches of up to --batch slices',
      integer('--concurrent', { min: 1 }),
      SERVE_CONCURRENT,
    )
    .action(async (o: ServeValues) => {
      const gate = gateChoice(o);
      const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
      log('loading models…');
      const server = await startServer({
        port: o.port,
        host: o.host,
        ...(o.classifier ? { classifier: o.classifier } : {}),
        ...(o.segmenter ? { segmenter: o.segmenter } : {}),
        ...(gate ? { gate } : {}),
        ...(o.threads ? { threads: o.threads } : {}),
        batch: o.batch,
        backend: o.backend,
        workers: o.workers,
        concurrent: o.concurrent,
        limits: { maxBodyBytes: o.maxUploadMb * 1024 * 1024, queueLimit: o.queue },
        log,
      });
      const { classifier, segmenter, gate: used } = server.inference.models;
      log(
        `models: ${classifier.name} (${classifier.architecture}), ${segmenter.name} (${segmenter.architecture}); gate: ${describeGate(used)}`,
      );
      for (const line of server.inference.backends ?? []) log(line);
      log(`listening on ${server.url}  (research tool, not a medical device; Ctrl-C stops)`);
      // Ctrl-C or a service manager's SIGTERM: take no new connections, let a running prediction stop at its next
      // batch (ending the worker while libtorch runs in it would abort the process), answer what is waiting, exit 0.
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          log(`${signal} again: still stopping, after the running batch`);
          return;
        }
        stopping = true;
        log(`${signal}: stopping (a running prediction stops after its current batch)`);
        server.close().then(
          () => {
            log('stopped');
            process.exit(0);
          },
          (err: Error) => {
            log(`error while stopping: ${err.message}`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
