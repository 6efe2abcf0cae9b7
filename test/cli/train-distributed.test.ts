// `tumorscope train ... --nproc 2` as a user runs it: two worker processes on 127.0.0.1 train one model, rank 0
// alone logs and writes the run folder, and --resume with --nproc continues exactly where the run stopped.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readLog } from '../../src/train/run-log.ts';
import { repoRoot, tempDir } from '../data/fixtures.ts';
import { writeVisibleTumours } from '../helpers/visible-tumours.ts';

const run = promisify(execFile);

async function trainSegmenter(data: string, out: string, extra: string[]): Promise<string> {
  const args = [
    'bin/tumorscope.js',
    'train',
    'segmenter',
    ...['--data', data, '--out', out, '--nproc', '2', '--width', '0.25', '--size', '32', '--batch', '4'],
    ...['--lr', '3e-3', '--seed', '1', '--sampling', 'tumour-only', '--no-augment', '--dist-timeout', '120'],
    ...extra,
  ];
  const { stdout } = await run(process.execPath, args, { cwd: repoRoot, timeout: 300_000 });
  return stdout;
}

describe('train --nproc 2', () => {
  it('rank 0 alone logs and writes; a resumed run ends where an uninterrupted one does', async (t) => {
    const data = writeVisibleTumours(tempDir(t));
    const resumed = join(tempDir(t), 'resumed');
    const straight = join(tempDir(t), 'straight');
    const first = await trainSegmenter(data, resumed, ['--epochs', '1']);
    assert.equal(first.match(/epoch 1\/1 /g)?.length, 1, first);
    assert.match(first, /2 processes/);
    for (const f of [
      'split.json',
      'log.jsonl',
      'checkpoint.json',
      'best.safetensors',
      'postprocess-choice.json',
    ])
      assert.ok(existsSync(join(resumed, f)), f);

    const [second] = await Promise.all([
      trainSegmenter(data, resumed, ['--epochs', '2', '--resume']),
      trainSegmenter(data, straight, ['--epochs', '2']),
    ]);
    assert.match(second, /resumed .* after epoch 1/);
    const [a, b] = [readLog(join(resumed, 'log.jsonl')), readLog(join(straight, 'log.jsonl'))];
    assert.deepEqual(
      a.map((r) => r.epoch),
      [1, 2],
    );
    for (const k of ['train_loss', 'val_patient_dice', 'lr']) assert.equal(a[1]![k], b[1]![k], k);
  });
});
