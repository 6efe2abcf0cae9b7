// The server's parts on their own: the bounded queue, static path resolution, the model card, upload names and
// a worker that cannot load its models.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LoadedModels } from '../../src/pipeline/load-model.ts';
import { modelsInfoSchema } from '../../src/server/api-schema.ts';
import { InferencePool } from '../../src/server/inference-pool.ts';
import { type InferenceService, WorkerInference } from '../../src/server/inference-service.ts';
import { JobQueue, QueueFullError } from '../../src/server/job-queue.ts';
import { modelsInfo } from '../../src/server/model-info.ts';
import { resolveStatic } from '../../src/server/static-files.ts';
import { classifyUpload, displayName } from '../../src/server/uploads.ts';

describe('JobQueue', () => {
  it('runs one job at a time in order, holds `limit` and refuses the rest', async () => {
    const queue = new JobQueue(2);
    const order: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const a = queue.run(async () => {
      order.push('a start');
      await gate;
      order.push('a end');
    });
    const b = queue.run(async () => void order.push('b'));
    const c = queue.run(async () => void order.push('c'));
    assert.deepEqual(queue.state, { running: 1, waiting: 2, limit: 2 });
    assert.equal(queue.full, true);
    await assert.rejects(
      queue.run(async () => {}),
      QueueFullError,
    );
    open();
    await Promise.all([a, b, c]);
    assert.deepEqual(order, ['a start', 'a end', 'b', 'c']);
    assert.deepEqual(queue.state, { running: 0, waiting: 0, limit: 2 });
  });

  it('runs `concurrency` jobs at once, then holds `limit` and refuses the rest', async () => {
    const queue = new JobQueue(1, 2);
    const gates: (() => void)[] = [];
    const started: string[] = [];
    const job = (name: string) => () =>
      new Promise<string>((resolve) => {
        started.push(name);
        gates.push(() => resolve(name));
      });
    const a = queue.run(job('a'));
    const b = queue.run(job('b'));
    assert.equal(queue.full, false);
    const c = queue.run(job('c'));
    assert.deepEqual(queue.state, { running: 2, waiting: 1, limit: 1 });
    assert.equal(queue.full, true);
    await assert.rejects(queue.run(job('d')), QueueFullError);
    await Promise.resolve();
    assert.deepEqual(started, ['a', 'b']);
    gates[1]!();
    assert.equal(await b, 'b');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, ['a', 'b', 'c']);
    assert.deepEqual(queue.state, { running: 2, waiting: 0, limit: 1 });
    gates[0]!();
    gates[2]!();
    assert.deepEqual(await Promise.all([a, c]), ['a', 'c']);
    assert.deepEqual(queue.state, { running: 0, waiting: 0, limit: 1 });
    assert.throws(() => new JobQueue(1, 0), /at a time/);
  });

  it('frees the slot when a job fails', async () => {
    const queue = new JobQueue(0);
    await assert.rejects(
      queue.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await queue.run(async () => 7), 7);
  });
});

describe('InferencePool', () => {
  /** A stand-in worker whose jobs wait until released; it answers with its own name. */
  function worker(name: string, concurrency: number) {
    const open: (() => void)[] = [];
    const service: InferenceService = {
      models: { name } as unknown as InferenceService['models'],
      concurrency,
      predict: () =>
        new Promise<Uint8Array>((resolve) => open.push(() => resolve(new TextEncoder().encode(name)))),
      close: async () => {},
    };
    return { service, open };
  }

  it('gives each job to the worker with the fewest jobs in hand, and adds up their slots', async () => {
    const a = worker('a', 2);
    const b = worker('b', 2);
    const pool = new InferencePool([a.service, b.service]);
    assert.equal(pool.concurrency, 4);
    const job = { uploads: [], includeImage: false };
    const answers = [pool.predict(job), pool.predict(job), pool.predict(job)];
    assert.deepEqual([a.open.length, b.open.length], [2, 1]);
    a.open.shift()!();
    assert.equal(new TextDecoder().decode(await answers[0]!), 'a');
    // a holds one job now, b one: the next goes to the first of them.
    const fourth = pool.predict(job);
    assert.deepEqual([a.open.length, b.open.length], [2, 1]);
    b.open.shift()!();
    const fifth = pool.predict(job);
    assert.deepEqual([a.open.length, b.open.length], [2, 1]);
    for (const release of [...a.open, ...b.open]) release();
    const names = (await Promise.all([answers[1]!, answers[2]!, fourth, fifth])).map((x) =>
      new TextDecoder().decode(x),
    );
    assert.deepEqual(names, ['b', 'a', 'a', 'b']);
  });
});

describe('resolveStatic', () => {
  it('stays inside the root, links included', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tumorscope-static-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const root = join(dir, 'dist');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'index.html'), 'x');
    writeFileSync(join(root, 'sub', 'index.html'), 'y');
    writeFileSync(join(dir, 'secret'), 's');
    symlinkSync(join(dir, 'secret'), join(root, 'link'));
    assert.equal(await resolveStatic(root, '/'), join(root, 'index.html'));
    assert.equal(await resolveStatic(root, '/sub/'), join(root, 'sub', 'index.html'));
    for (const path of [
      '/../secret',
      '/%2e%2e/secret',
      '/sub/..%2f..%2fsecret',
      '/link',
      '/%00',
      '/%zz',
      '/nope',
    ]) {
      assert.equal(await resolveStatic(root, path), undefined, path);
    }
  });
});

describe('modelsInfo', () => {
  it('passes the model card through, and null without one', () => {
    const preprocess = { version: 1, width: 128, height: 96, channels: 3, intensity: { kind: 'rescale' } };
    const postprocess = { threshold: 0.4, minComponentArea: 10, largest3DComponent: true, tta: 'flips' };
    const card = { test: { auc: 0.93 } };
    const models = {
      classifier: {
        base: 'models/classifier',
        preprocess,
        config: { architecture: 'densenet121', threshold: 0.2, card },
      },
      segmenter: {
        base: 'runs/s/best',
        preprocess,
        postprocess,
        config: { architecture: 'resunet', threshold: 0.5 },
      },
    } as unknown as LoadedModels;
    const gate = { detector: 'mean' as const, sliceRadius: 1, threshold: 0.45 };
    const info = modelsInfo(models, gate);
    assert.deepEqual(modelsInfoSchema.parse(info), info, 'the answer has the API shape');
    assert.deepEqual(info, {
      classifier: {
        name: 'classifier',
        architecture: 'densenet121',
        inputSize: { width: 128, height: 96 },
        threshold: 0.2,
        card,
      },
      segmenter: {
        name: 'best',
        architecture: 'resunet',
        inputSize: { width: 128, height: 96 },
        threshold: 0.4,
        card: null,
        postprocess,
      },
      gate,
    });
  });
});

describe('uploads', () => {
  it('keeps only a printable last path segment of a name', () => {
    assert.equal(displayName('../../etc/passwd', 'f'), 'passwd');
    assert.equal(displayName('C:\\scans\\a\u0000b.tif', 'f'), 'ab.tif');
    assert.equal(displayName('/', 'upload 3'), 'upload 3');
  });

  it('tells zips from images by their bytes, whatever the name', () => {
    assert.equal(classifyUpload('x.tif', new Uint8Array([0x50, 0x4b, 3, 4, 0])).kind, 'zip');
    assert.equal(classifyUpload('x.zip', new Uint8Array([0x49, 0x49, 42, 0, 8, 0, 0, 0])).kind, 'image');
    assert.throws(() => classifyUpload('x.tif', new Uint8Array(0)), /x\.tif: empty file/);
  });
});

describe('WorkerInference', () => {
  it('fails to start with the loader error naming the model file', async () => {
    await assert.rejects(
      WorkerInference.start({ classifier: '/nonexistent/model', maxUnpackedBytes: 1 }),
      /\/nonexistent\/model\.json/,
    );
  });
});
