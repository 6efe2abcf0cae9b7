import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseThresholdYouden } from '../../src/metrics/threshold.ts';

describe('threshold chooser (max Youden J, ties to the higher threshold)', () => {
  it('picks the threshold of largest tpr - fpr', () => {
    const choice = chooseThresholdYouden([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]);
    assert.deepEqual(choice, { threshold: 0.8, youdenJ: 1, tpr: 1, fpr: 0 });
  });
  it('breaks a tie in J towards the higher threshold', () => {
    // J = 1/3, 2/3, 1/3, 2/3, 1/3, 0 at thresholds .9 .8 .7 .6 .4 .3: .8 and .6 tie
    const choice = chooseThresholdYouden([0.9, 0.8, 0.7, 0.6, 0.4, 0.3], [1, 1, 0, 1, 0, 0]);
    assert.equal(choice.threshold, 0.8);
    assert.ok(Math.abs(choice.youdenJ - 2 / 3) < 1e-12);
    assert.ok(Math.abs(choice.tpr - 2 / 3) < 1e-12);
    assert.equal(choice.fpr, 0);
  });
  it('breaks the same tie the same way whatever the input order', () => {
    const choice = chooseThresholdYouden([0.3, 0.6, 0.4, 0.7, 0.8, 0.9], [0, 1, 0, 0, 1, 1]);
    assert.equal(choice.threshold, 0.8);
  });
  it('treats tied scores as one threshold', () => {
    const choice = chooseThresholdYouden([0.5, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    assert.equal(choice.threshold, 0.5);
    assert.equal(choice.youdenJ, 0.5);
  });
  it('refuses validation data with one class only', () => {
    assert.throws(() => chooseThresholdYouden([0.2, 0.4], [0, 0]), RangeError);
    assert.throws(() => chooseThresholdYouden([0.2, 0.4], [1, 1]), RangeError);
  });
});
