// The bad-input corpus (corpus.ts) against `tumorscope predict`, `data inspect`, `evaluate`, `train` and the
// server. Each bad case must end in a clean refusal: a typed error (a one-line message from the CLI, a 4xx from
// the server) that names the file, no stack trace, no abort, nothing half-written, little memory, and a server
// that goes on answering. The commands run in this process (an abort would end the test run), each case's peak
// memory measured; one case per command runs as a real child process too, for the exit code, the stderr a user
// sees and the whole process's peak memory.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Command as Program } from 'commander';
import { registerDataInspect } from '../../src/cli/commands/data-inspect.ts';
import { registerEvaluate } from '../../src/cli/commands/evaluate.ts';
import { registerPredict } from '../../src/cli/commands/predict.ts';
import { registerTrain } from '../../src/cli/commands/train.ts';
import { DataError } from '../../src/data/errors.ts';
import { setNumThreads } from '../../src/engine/index.ts';
import { WorkerInference } from '../../src/server/inference-service.ts';
import { type RunningServer, startServer } from '../../src/server/server.ts';
import { runTumorscope } from '../helpers/child-process.ts';
import { measurePeak } from '../helpers/peak-memory.ts';
import { type CommandRun, runCommand } from '../helpers/run-command.ts';
import { saveTinyModels } from '../helpers/tiny-models.ts';
import { getJson, postFiles, raw } from '../server/client.ts';
import { type BadCase, type Command, makeCorpus } from './corpus.ts';

setNumThreads(1);

/**
 * What one refusal may add to this process's peak memory. Every case is refused from names, headers or a zip's
 * directory, before anything is decoded: a few MB. Decoding them cost 2.7 GB (the 16384² bomb), 6.6 GB (its
 * 16-bit twin) and 4 GB before an abort (2,000 one-pixel slices); 128 MB leaves room for a busy garbage collector.
 */
const REFUSAL_MB = 128;
/**
 * A whole `tumorscope` process that refuses a case: node, tsx, libtorch and the tiny models come to about
 * 300 MB on Linux; what the cases cost without their limits is gigabytes.
 */
const PROCESS_MB = 1024;

/** Peak memory over `run`, in MB above where it started (Linux; elsewhere not measured, 0). */
async function peakOf<T>(run: () => Promise<T>): Promise<{ result: T; grewMb: number }> {
  const peak = process.platform === 'linux' ? measurePeak() : () => 0;
  const result = await run();
  return { result, grewMb: peak() };
}

describe('the bad-input corpus', () => {
  let dir: string;
  let cases: BadCase[];
  let models: { classifier: string; segmenter: string };
  let inference: WorkerInference;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-corpus-'));
    cases = await makeCorpus(join(dir, 'corpus'));
    models = saveTinyModels(join(dir, 'models'), 0);
    inference = await WorkerInference.start({ ...models, threads: 1, maxUnpackedBytes: 16 << 20 });
    server = await startServer({ port: 0, inference, webRoot: join(dir, 'no-web') });
  });
  after(async () => {
    await server?.close();
    await inference?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const modelArgs = () => ['--classifier', models.classifier, '--segmenter', models.segmenter];
  const badFor = (command: Command) => cases.filter((c) => c.badFor.includes(command));

  /**
   * Each case bad for `command` through it (at least `least` of them), checked by `check`: nothing where the
   * command would have written, and little memory.
   */
  async function eachCase(
    t: TestContext,
    o: {
      command: Command;
      least: number;
      register: (program: Program) => void;
      args: (c: BadCase, out: string) => string[][];
      check: (c: BadCase, run: CommandRun) => void;
    },
  ): Promise<void> {
    const bad = badFor(o.command);
    assert.ok(bad.length >= o.least, `${bad.length} cases for ${o.command}`);
    let most = 0;
    for (const [k, c] of bad.entries()) {
      const out = join(dir, `${o.command}-out-${k}`);
      for (const argv of o.args(c, out)) {
        const what = `${argv.slice(0, 2).join(' ')} on ${c.what}`;
        const { result: run, grewMb } = await peakOf(() => runCommand(o.register, argv));
        o.check(c, run);
        assert.ok(!existsSync(out), `${what}: ${out} was written`);
        assert.ok(grewMb < REFUSAL_MB, `${what}: peak memory grew by ${grewMb.toFixed(0)} MB`);
        most = Math.max(most, grewMb);
      }
    }
    t.diagnostic(`${bad.length} cases; peak memory grew by at most ${most.toFixed(0)} MB a case`);
  }

  /** A DataError naming the file, on one line, for what the command line prints as `tumorscope: <message>`. */
  const thrown = (c: BadCase, run: CommandRun) => {
    assert.ok(run.error instanceof DataError, `${c.what}: ${(run.error as Error)?.stack ?? 'no error'}`);
    assert.ok(run.error.message.includes(c.names), `${c.what}: "${run.error.message}" names ${c.names}`);
    assert.ok(!run.error.message.includes('\n'), `${c.what}: one line`);
  };

  it('predict refuses each with a DataError naming the file, writing nothing', (t) =>
    eachCase(t, {
      command: 'predict',
      least: 20,
      register: registerPredict,
      args: (c, out) => [['predict', c.path, '--out', out, '--threads', '1', ...modelArgs()]],
      check: thrown,
    }));

  it('data inspect refuses each with one "error:" line naming the file and exit code 1, writing nothing', (t) =>
    eachCase(t, {
      command: 'inspect',
      least: 25,
      register: registerDataInspect,
      args: (c, out) => [['data', 'inspect', c.path, '--size', '16', '--grid', out]],
      check: (c, run) => {
        assert.equal(run.error, undefined, `${c.what}: ${(run.error as Error)?.stack}`);
        assert.equal(run.exitCode, 1, c.what);
        const errors = run.stderr.filter((line) => line.startsWith('error: '));
        assert.equal(errors.length, 1, `${c.what}: ${run.stderr.join(' | ')}`);
        assert.ok(errors[0]!.includes(c.names), `${c.what}: "${errors[0]}" names ${c.names}`);
      },
    }));

  it('evaluate refuses each with a DataError naming the file, writing no report', (t) =>
    eachCase(t, {
      command: 'evaluate',
      least: 25,
      register: registerEvaluate,
      args: (c, out) => [['evaluate', '--data', c.path, '--out', out, '--threads', '1', ...modelArgs()]],
      check: thrown,
    }));

  it('train (both stages) refuses each with a DataError naming the file, leaving no run folder', (t) =>
    eachCase(t, {
      command: 'train',
      least: 25,
      register: registerTrain,
      args: (c, out) =>
        ['classifier', 'segmenter'].map((stage) => [
          ...['train', stage, '--data', c.path, '--out', out],
          ...['--size', '32', '--epochs', '1', '--threads', '1'],
        ]),
      check: thrown,
    }));

  it('the server answers each with its 4xx naming the file, and goes on answering', async (t) => {
    const bad = badFor('serve');
    assert.ok(bad.length >= 18);
    let most = 0;
    for (const c of bad) {
      const { result: res, grewMb } = await peakOf(() => postFiles(server.url, c.uploads));
      assert.equal(res.status, c.status, `${c.what}: ${JSON.stringify(res.body).slice(0, 300)}`);
      const error = (res.body as { error: string }).error;
      assert.ok(error.startsWith(c.uploadNames ?? c.names), `${c.what}: "${error}" starts with its file`);
      assert.ok(!/\n\s+at /.test(error), `${c.what}: a stack trace in "${error}"`);
      assert.ok(grewMb < REFUSAL_MB, `${c.what}: peak memory grew by ${grewMb.toFixed(0)} MB`);
      most = Math.max(most, grewMb);
      assert.equal((await getJson(server.url, '/api/health')).status, 200);
    }
    t.diagnostic(`peak memory (server and worker) grew by at most ${most.toFixed(0)} MB a request`);
    // The worker lived through all of it: a good slice still predicts.
    const good = cases.find((c) => c.what === 'truncated TIFF')!.uploads.slice(0, 2);
    assert.equal((await postFiles(server.url, good)).status, 200);
  });

  it('the server answers a header flood with 431, and others while 100 clients stall halfway through a request', async () => {
    const port = Number(new URL(server.url).port);
    const flood = await raw(port, 'GET', '/api/health', { headers: { 'x-flood': 'a'.repeat(64 * 1024) } });
    assert.equal(flood.status, 431);
    // Slow clients: each sends half a request's headers and nothing more, holding its connection open.
    const stalled = await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect(port, '127.0.0.1', () => {
              socket.write(
                'POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-da',
              );
              resolve(socket);
            });
            socket.once('error', reject);
          }),
      ),
    );
    try {
      assert.equal((await getJson(server.url, '/api/health')).status, 200);
      const good = cases.find((c) => c.what === 'truncated TIFF')!.uploads.slice(0, 2);
      assert.equal((await postFiles(server.url, good)).status, 200);
    } finally {
      for (const socket of stalled) socket.destroy();
    }
  });

  it('the real commands exit 1 with one line on stderr naming the file, no stack trace, nothing written, within bounded memory', (t) => {
    const pick = (what: string) => cases.find((c) => c.what === what)!;
    const bomb = pick('TIFF bomb 16384² 16-bit');
    const many = pick('2,000 one-pixel slices');
    const out = (name: string) => join(dir, `child-${name}`);
    const writing = (path: string) => ['--out', path, '--threads', '1'];
    const runs: { c: BadCase; args: string[]; wrote: string }[] = [
      { c: bomb, args: ['predict', bomb.path, ...modelArgs()], wrote: out('predict-bomb') },
      { c: many, args: ['predict', many.path, ...modelArgs()], wrote: out('predict-many') },
      { c: many, args: ['evaluate', '--data', many.path, ...modelArgs()], wrote: out('eval') },
      { c: bomb, args: ['train', 'segmenter', '--data', bomb.path], wrote: out('train') },
    ];
    const grid = out('grid.png');
    const inspected = pick('TIFF bomb 16384² RGB');
    for (const { c, argv } of [
      ...runs.map(({ c, args, wrote }) => ({ c, argv: [...args, ...writing(wrote)] })),
      { c: inspected, argv: ['data', 'inspect', inspected.path, '--grid', grid] },
    ]) {
      const child = runTumorscope(argv);
      const what = `${argv.filter((a) => /^[a-z]+$/.test(a)).join(' ')} on ${c.what}`;
      assert.equal(child.status, 1, `${what}: ${child.stderr}`);
      const lines = child.stderr
        .trim()
        .split('\n')
        .filter((line) => !/^decoding: /.test(line));
      assert.equal(lines.length, 1, `${what}: ${child.stderr}`);
      assert.match(lines[0]!, /^(tumorscope|error): /);
      assert.ok(lines[0]!.includes(c.names), `${what}: ${lines[0]}`);
      assert.ok(!/FATAL|Abort|\n\s+at /.test(child.stderr), what);
      assert.ok(![...runs.map((r) => r.wrote), grid].some(existsSync), `${what}: something was written`);
      assert.notEqual(child.peakMb, null, `${what}: the process did not reach its exit`);
      assert.ok(child.peakMb! < PROCESS_MB, `${what}: peak memory ${child.peakMb!.toFixed(0)} MB`);
      t.diagnostic(`${what}: peak memory ${child.peakMb!.toFixed(0)} MB`);
    }
  });
});
