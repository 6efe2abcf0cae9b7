// Progress without a terminal (a background run's log, a pipe): a bounded number of plain lines per loop,
// whatever its length, the last at the end; with a terminal, a bar instead (not tested here: the runner pipes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PLAIN_LINES, plainLineStep, progress, progressReporter } from '../../src/inference/progress.ts';

describe('plain progress lines', () => {
  it('come at most PLAIN_LINES times a loop, the last at the end, for short and long loops', () => {
    assert.equal(process.stderr.isTTY ?? false, false, 'the test runner pipes stderr');
    for (const total of [1, 3, 4, 5, 156, 10_000]) {
      const lines: string[] = [];
      const bar = progress('decode', total, (line) => lines.push(line), 1);
      for (let k = 0; k < total; k++) bar.tick();
      bar.stop();
      assert.ok(lines.length >= 1 && lines.length <= PLAIN_LINES, `${total} steps: ${lines.length} lines`);
      assert.match(lines.at(-1)!, new RegExp(`^decode ${total}/${total} `));
    }
    // Training's default of a line every 50 steps still holds for short epochs.
    assert.equal(plainLineStep(120, 50), 50);
    assert.equal(plainLineStep(10_000, 50), 2500);
  });

  it('from work that reports (done, total) itself: a 156-slice evaluate or predict prints a few lines', () => {
    const lines: string[] = [];
    const reporter = progressReporter('predict (slices)', (line) => lines.push(line));
    for (let done = 0; done <= 156; done += 2) reporter.update(done, 156);
    reporter.update(156, 156);
    reporter.stop();
    assert.ok(lines.length <= PLAIN_LINES, `${lines.length} lines`);
    assert.match(lines.at(-1)!, /^predict \(slices\) 156\/156 /);
  });
});
