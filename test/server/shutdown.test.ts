// `tumorscope serve` stopped by a real signal while a prediction runs, in a child process of its own: it must
// stop between inference batches (ending the worker thread while libtorch runs in it aborted the process with
// "terminate called after throwing an instance of 'Napi::Error'"), answer what it was given, and exit 0.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeTiff, pattern, repoRoot } from '../data/fixtures.ts';
import { saveTinyModels } from '../helpers/tiny-models.ts';
import { type FilePart, getJson, postFiles, until } from './client.ts';

const SLICES = 120;

/** Starts `tumorscope serve` on a free port; resolves with its URL once it listens. */
function startServe(models: { classifier: string; segmenter: string }) {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'tumorscope.js'),
      'serve',
      // One prediction at a time, so that the second request waits in the queue.
      ...['--port', '0', '--threads', '1', '--batch', '1', '--concurrent', '1'],
      ...['--classifier', models.classifier, '--segmenter', models.segmenter],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = new Promise<string>((resolve, reject) => {
    const look = () => {
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', look);
    void exited.then(({ code }) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)));
  });
  return { child, url, exited, output: () => ({ stdout, stderr }) };
}

describe('tumorscope serve, stopped by a signal', () => {
  let dir: string;
  let server: ReturnType<typeof startServe> | undefined;
  let models: { classifier: string; segmenter: string };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-shutdown-'));
    models = saveTinyModels(join(dir, 'models'), 0, { classifier: 64, segmenter: 64 });
  });
  after(() => {
    if (server && server.child.exitCode === null) (server.child as ChildProcess).kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('on SIGTERM during a prediction stops it between batches, answers 503 to it and to the queued one, exits 0', async () => {
    server = startServe(models);
    const url = await server.url;
    const files: FilePart[] = Array.from({ length: SLICES }, (_, k) => ({
      name: `TCGA_SD_0001_20000101_${k + 1}.tif`,
      bytes: encodeTiff({ width: 64, height: 64, channels: 3, samples: pattern(64 * 64 * 3, k) }),
    }));
    const running = postFiles(url, files);
    // Inside libtorch: the classifier has done at least two of its one-slice batches, with ~240 to go.
    await until(
      async () => {
        const health = (await getJson(url, '/api/health')).body as { prediction?: { done: number } };
        return (health.prediction?.done ?? 0) >= 1;
      },
      'the prediction to be under way',
      running,
    );
    const queued = postFiles(url, files.slice(0, 1));
    await until(
      async () =>
        ((await getJson(url, '/api/health')).body as { queue: { waiting: number } }).queue.waiting === 1,
      'the second prediction to wait',
      Promise.race([running, queued]),
    );
    server.child.kill('SIGTERM');
    const [first, second] = await Promise.all([running, queued]);
    for (const res of [first, second]) {
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.match((res.body as { error: string }).error, /^the server is shutting down/);
    }
    const { code, signal } = await server.exited;
    const { stdout, stderr } = server.output();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, stderr);
    assert.doesNotMatch(stderr, /terminate called|FATAL|Abort/);
    assert.match(stdout, /SIGTERM: stopping/);
    assert.match(stdout, /stopped/);
    // Nothing listens any more.
    await assert.rejects(fetch(`${url}/api/health`));
  });
});
