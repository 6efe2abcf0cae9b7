// The bad-input corpus (corpus.ts) against `tumorscope predict`, `tumorscope data inspect` and the server. Each
// bad case must end in a clean refusal: a typed error (a one-line message from the CLI, a 4xx from the server)
// that names the file, no stack trace, no abort, nothing half-written, and a server that goes on answering.
// The commands run in this process (an abort would end the test run); a few run as real child processes too,
// for the exit code and the stderr a user sees.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerDataInspect } from '../../src/cli/commands/data-inspect.ts';
import { registerPredict } from '../../src/cli/commands/predict.ts';
import { DataError } from '../../src/data/errors.ts';
import { setNumThreads } from '../../src/engine/index.ts';
import { WorkerInference } from '../../src/server/inference-service.ts';
import { type RunningServer, startServer } from '../../src/server/server.ts';
import { repoRoot } from '../data/fixtures.ts';
import { runCommand } from '../helpers/run-command.ts';
import { saveTinyModels } from '../helpers/tiny-models.ts';
import { getJson, postFiles } from '../server/client.ts';
import { type BadCase, makeCorpus } from './corpus.ts';

setNumThreads(1);
const cli = join(repoRoot, 'bin', 'tumorscope.js');

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

  it('predict refuses each with a DataError naming the file, and writes nothing', async () => {
    const bad = cases.filter((c) => c.badFor.includes('predict'));
    assert.ok(bad.length >= 16);
    for (const [k, c] of bad.entries()) {
      const out = join(dir, `predict-out-${k}`);
      const run = await runCommand(registerPredict, [
        'predict',
        c.path,
        '--out',
        out,
        '--threads',
        '1',
        ...modelArgs(),
      ]);
      assert.ok(run.error instanceof DataError, `${c.what}: ${(run.error as Error)?.stack ?? 'no error'}`);
      assert.ok(run.error.message.includes(c.names), `${c.what}: "${run.error.message}" names ${c.names}`);
      assert.ok(!run.error.message.includes('\n'), `${c.what}: one line`);
      assert.ok(!existsSync(out), `${c.what}: ${out} was written`);
    }
  });

  it('data inspect refuses each with one "error:" line naming the file and exit code 1, writing nothing', async () => {
    const bad = cases.filter((c) => c.badFor.includes('inspect'));
    assert.ok(bad.length >= 15);
    for (const [k, c] of bad.entries()) {
      const grid = join(dir, `inspect-${k}.png`);
      const run = await runCommand(registerDataInspect, [
        'data',
        'inspect',
        c.path,
        '--size',
        '16',
        '--grid',
        grid,
      ]);
      assert.equal(run.error, undefined, `${c.what}: ${(run.error as Error)?.stack}`);
      assert.equal(run.exitCode, 1, c.what);
      const errors = run.stderr.filter((line) => line.startsWith('error: '));
      assert.equal(errors.length, 1, `${c.what}: ${run.stderr.join(' | ')}`);
      assert.ok(errors[0]!.includes(c.names), `${c.what}: "${errors[0]}" names ${c.names}`);
      assert.ok(!existsSync(grid), `${c.what}: ${grid} was written`);
    }
  });

  it('the server answers each with its 4xx naming the file, and goes on answering', async () => {
    const bad = cases.filter((c) => c.badFor.includes('serve'));
    assert.ok(bad.length >= 17);
    for (const c of bad) {
      const res = await postFiles(server.url, c.uploads);
      assert.equal(res.status, c.status, `${c.what}: ${JSON.stringify(res.body).slice(0, 300)}`);
      const error = (res.body as { error: string }).error;
      assert.ok(error.startsWith(c.uploadNames ?? c.names), `${c.what}: "${error}" starts with its file`);
      assert.ok(!/\n\s+at /.test(error), `${c.what}: a stack trace in "${error}"`);
      assert.equal((await getJson(server.url, '/api/health')).status, 200);
    }
    // The worker lived through all of it: a good slice still predicts.
    const good = cases.find((c) => c.what === 'truncated TIFF')!.uploads.slice(0, 2);
    assert.equal((await postFiles(server.url, good)).status, 200);
  });

  it('the real command exits 1 with one line on stderr naming the file, no stack trace, nothing written', () => {
    const pick = (what: string) => cases.find((c) => c.what === what)!;
    const runs = [
      {
        c: pick('TIFF bomb 16384² 16-bit'),
        args: (path: string) => ['predict', path, '--out', join(dir, 'child-out-1'), ...modelArgs()],
      },
      {
        c: pick('2,000 one-pixel slices'),
        args: (path: string) => ['predict', path, '--out', join(dir, 'child-out-2'), ...modelArgs()],
      },
      {
        c: pick('a mask of another size'),
        args: (path: string) => ['data', 'inspect', path, '--grid', join(dir, 'child-grid.png')],
      },
    ];
    for (const { c, args } of runs) {
      const child = spawnSync(process.execPath, [cli, ...args(c.path)], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      assert.equal(child.status, 1, `${c.what}: ${child.stderr}`);
      const lines = child.stderr
        .trim()
        .split('\n')
        .filter((line) => !/^decoding: /.test(line));
      assert.equal(lines.length, 1, `${c.what}: ${child.stderr}`);
      assert.match(lines[0]!, /^(tumorscope|error): /);
      assert.ok(lines[0]!.includes(c.names), `${c.what}: ${lines[0]}`);
      assert.ok(!/FATAL|Abort|\n\s+at /.test(child.stderr));
    }
    assert.ok(!existsSync(join(dir, 'child-out-1')) && !existsSync(join(dir, 'child-out-2')));
    assert.ok(!existsSync(join(dir, 'child-grid.png')));
  });
});
