import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrainingLog, trainingPoints } from '../../src/eval/training-log.ts';

describe('training log', () => {
  it('parses JSON lines, skipping blank ones, and names the bad line', () => {
    assert.deepEqual(parseTrainingLog('{"epoch":1}\n\n{"epoch":2}\n'), [{ epoch: 1 }, { epoch: 2 }]);
    assert.throws(() => parseTrainingLog('{"epoch":1}\n{oops\n'), /line 2/);
    assert.throws(() => parseTrainingLog('[1,2]\n'), /line 1 is not a JSON object/);
  });
  it('reads train_ and val_ metrics and ignores bookkeeping', () => {
    assert.deepEqual(
      trainingPoints([{ epoch: 1, lr: 0.001, seconds: 12, train_loss: 0.5, val_loss: 0.6, val_auc: 0.9 }]),
      [
        { epoch: 1, split: 'validation', metric: 'auc', value: 0.9 },
        { epoch: 1, split: 'train', metric: 'loss', value: 0.5 },
        { epoch: 1, split: 'validation', metric: 'loss', value: 0.6 },
      ],
    );
  });
  it('skips lines without an epoch and non-numeric values; the last line of an epoch wins', () => {
    const points = trainingPoints([
      { event: 'start', seed: 1 },
      { epoch: 2, train_loss: 0.9, note: 'before an interruption' },
      { epoch: 2, train_loss: 0.4, val_dice: Number.NaN, val_auc: null },
      { epoch: 1, train_loss: 1 },
    ]);
    assert.deepEqual(points, [
      { epoch: 1, split: 'train', metric: 'loss', value: 1 },
      { epoch: 2, split: 'train', metric: 'loss', value: 0.4 },
    ]);
  });
});
