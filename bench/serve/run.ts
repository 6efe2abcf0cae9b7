// bench/serve: the server under a burst. Starts `tumorscope serve` with the shipped models (models/) as a child
// process, sends N concurrent POST /api/predict of one real LGG slice over loopback (node:http, one socket per
// request), and reports throughput, latency percentiles, the status counts (200, and 503 once the bounded
// queue is full: nothing else is expected) and the server's peak resident memory (VmHWM: main thread and
// inference worker together).
//
//   node --import tsx bench/serve/run.ts [--requests 200] [--queue 16] [--threads N] [--slice <file.tif>]
//                                        [--include-image] [--workers N] [--concurrent N] [--batch N]
//                                        [--backend auto|torch|onnx]
// --workers, --concurrent, --batch and --backend go to `tumorscope serve` as they are (its defaults otherwise).
// Without --slice it unpacks the first development patient from ../shared/lgg into .tmp/serve-bench.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { integer } from '../../src/cli/options.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    queue: { type: 'string', default: '16' },
    threads: { type: 'string' },
    slice: { type: 'string' },
    'include-image': { type: 'boolean', default: false },
    workers: { type: 'string' },
    concurrent: { type: 'string' },
    batch: { type: 'string' },
    backend: { type: 'string' },
  },
});
const requests = integer('--requests', { min: 1 })(values.requests);

function defaultSlice(): string {
  const dest = join(repoRoot, '.tmp', 'serve-bench');
  execFileSync('bash', [join(repoRoot, '..', 'shared', 'lgg', 'unpack'), dest, '1'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const root = join(dest, 'kaggle_3m');
  const patient = readdirSync(root).find((d) => d.startsWith('TCGA_'))!;
  // A slice from the middle of the volume, where the tumours usually are.
  const slices = readdirSync(join(root, patient)).filter((f) => /_\d+\.tif$/.test(f));
  return join(root, patient, `${patient}_${Math.ceil(slices.length / 2)}.tif`);
}

/** Starts the server on a free port; resolves with its URL once it listens. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const args = ['bin/tumorscope.js', 'serve', '--port', '0', '--queue', values.queue];
  for (const flag of ['threads', 'workers', 'concurrent', 'batch', 'backend'] as const) {
    const value = values[flag];
    if (value !== undefined) args.push(`--${flag}`, value);
  }
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolveStart, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolveStart({ child, url: m[1]! });
    });
    child.once('exit', (code) =>
      reject(new Error(`the server exited (code ${code}) before listening:\n${out}`)),
    );
  });
}

/** Multipart body with one file in field `files`. */
function multipart(name: string, bytes: Uint8Array): { body: Buffer; type: string } {
  const boundary = `----tumorscope-bench-${Date.now()}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: image/tiff\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

function post(
  url: URL,
  agent: Agent,
  body: Buffer,
  type: string,
): Promise<{ status: number; ms: number; bytes: number }> {
  const started = performance.now();
  return new Promise((done) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': type, 'content-length': body.length } },
      (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => {
          bytes += d.length;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes }));
      },
    );
    req.on('error', () => done({ status: 0, ms: performance.now() - started, bytes: 0 }));
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Peak resident memory of a process, from /proc (Linux). */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

const slice = values.slice ?? defaultSlice();
const { body, type } = multipart(basename(slice), readFileSync(slice));
const { child, url } = await startServer();
try {
  const target = new URL(`${url}/api/predict${values['include-image'] ? '?include=image' : ''}`);
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  // One warm-up request: the first inference pays for libtorch's lazy set-up.
  const warm = await post(target, agent, body, type);
  if (warm.status !== 200) throw new Error(`warm-up request answered ${warm.status}`);
  const rssBefore = peakRssMiB(child.pid!);

  const started = performance.now();
  const results = await Promise.all(Array.from({ length: requests }, () => post(target, agent, body, type)));
  const seconds = (performance.now() - started) / 1000;

  const counts = new Map<number, number>();
  for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const ok = results
    .filter((r) => r.status === 200)
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  const busy = results
    .filter((r) => r.status === 503)
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  const all = results.map((r) => r.ms).sort((a, b) => a - b);
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const line = (label: string, xs: number[]) =>
    `  ${label.padEnd(5)} n=${String(xs.length).padStart(3)}  p50 ${ms(percentile(xs, 50))}  p99 ${ms(percentile(xs, 99))}  max ${ms(xs[xs.length - 1] ?? Number.NaN)}`;

  console.log(
    `bench/serve: ${requests} concurrent POST /api/predict of ${basename(slice)} (${(body.length / 1024).toFixed(0)} KB)` +
      `${values['include-image'] ? ' with include=image' : ''}, queue limit ${values.queue}, warm-up ${ms(warm.ms)}`,
  );
  console.log(
    `server: ${['threads', 'workers', 'concurrent', 'batch', 'backend'].map((f) => `--${f} ${values[f as 'threads'] ?? '(default)'}`).join(' ')}`,
  );
  console.log(
    `status counts: ${[...counts]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')}`,
  );
  console.log(
    `burst wall ${seconds.toFixed(2)} s: ${(ok.length / seconds).toFixed(2)} predictions/s, ` +
      `${(requests / seconds).toFixed(1)} answers/s`,
  );
  console.log('latency:');
  console.log(line('all', all));
  console.log(line('200', ok));
  console.log(line('503', busy));
  console.log(
    `server peak RSS: ${peakRssMiB(child.pid!).toFixed(0)} MiB (${rssBefore.toFixed(0)} MiB after the warm-up)`,
  );
  const unexpected = [...counts.keys()].filter((s) => s !== 200 && s !== 503);
  if (unexpected.length > 0) {
    console.log(`unexpected statuses: ${unexpected.join(', ')}`);
    process.exitCode = 1;
  }
} finally {
  child.kill('SIGTERM');
}
