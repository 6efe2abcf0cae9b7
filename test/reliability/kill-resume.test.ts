// A training run killed outright (SIGKILL: no handler, no clean-up) and continued with --resume must end exactly
// where an uninterrupted run does: the same best model and last checkpoint byte for byte, the same log. The kill
// comes the moment epoch 2's checkpoint weights appear, before or while checkpoint.json is replaced, which is the
// step atomic writes exist for. Real `tumorscope train` processes, one libtorch thread each.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../data/fixtures.ts';
import { writeVisibleTumours } from '../helpers/visible-tumours.ts';
import { writeSplit } from '../pipeline/fixtures.ts';

const EPOCHS = 4;
const cli = join(repoRoot, 'bin', 'tumorscope.js');

describe('training killed with SIGKILL and resumed', () => {
  let dir: string;
  let args: string[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-kill-'));
    const data = writeVisibleTumours(join(dir, 'kaggle_3m'));
    const split = writeSplit(data, join(dir, 'split.json'));
    args = [
      ...['train', 'segmenter', '--data', data, '--split', split, '--size', '32', '--width', '0.5'],
      ...['--epochs', String(EPOCHS), '--batch', '8', '--lr', '3e-3', '--seed', '3', '--threads', '1'],
    ];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs to the end (without blocking this process, which watches the other run); fails on a non-zero exit. */
  const trainToEnd = async (out: string, extra: string[] = []) => {
    const child = spawn(process.execPath, [cli, ...args, '--out', out, ...extra]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    return stdout;
  };

  /** Starts a run and kills it the moment `file` appears in its folder; resolves with how it ended. */
  const killWhenWritten = async (out: string, file: string) => {
    mkdirSync(out, { recursive: true });
    const child = spawn(process.execPath, [cli, ...args, '--out', out], { stdio: 'ignore' });
    const watcher = watch(out, (_event, name) => {
      if (name === file && existsSync(join(out, file))) child.kill('SIGKILL');
    });
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    watcher.close();
    return ended;
  };

  /** log.jsonl without the seconds each epoch took. */
  const logOf = (out: string) =>
    readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const { seconds: _seconds, ...record } = JSON.parse(line) as Record<string, number>;
        return record;
      });

  it('ends, after --resume, byte for byte where an uninterrupted run ends', async () => {
    const straight = join(dir, 'straight');
    const broken = join(dir, 'killed');
    const [, killed] = await Promise.all([
      trainToEnd(straight),
      killWhenWritten(broken, 'checkpoint-2.safetensors'),
    ]);
    assert.deepEqual(killed, { code: null, signal: 'SIGKILL' });
    assert.ok(logOf(broken).length < EPOCHS, 'the run was killed before its end');
    const resumed = await trainToEnd(broken, ['--resume']);
    assert.match(resumed, /resumed .* after epoch [12] \(/);

    assert.deepEqual(logOf(broken), logOf(straight));
    for (const file of ['best.safetensors', `checkpoint-${EPOCHS}.safetensors`, 'postprocess-choice.json']) {
      assert.ok(readFileSync(join(broken, file)).equals(readFileSync(join(straight, file))), file);
    }
  });
});
