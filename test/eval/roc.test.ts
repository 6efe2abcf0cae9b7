import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { averagePrecision, precisionRecallCurve } from '../../src/metrics/precision-recall.ts';
import { rocAuc, rocAucOfCurve, rocCurve, trapezoid } from '../../src/metrics/roc.ts';
import { seededRandom } from './fixtures.ts';

/** The probability that a random positive outscores a random negative, ties counting half: the AUC by definition. */
function mannWhitneyAuc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((p, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((n, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += p > n ? 1 : p === n ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('ROC curve', () => {
  it('matches scikit-learn on its documented example', () => {
    const curve = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
    assert.deepEqual(curve.fpr, [0, 0, 0.5, 0.5, 1]);
    assert.deepEqual(curve.tpr, [0, 0.5, 0.5, 1, 1]);
    assert.deepEqual(curve.thresholds, [Number.POSITIVE_INFINITY, 0.8, 0.4, 0.35, 0.1]);
    assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  });
  it('makes one diagonal step for tied scores, whatever their input order', () => {
    const a = rocCurve([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    const b = rocCurve([0.5, 0.1, 0.9, 0.5], [0, 0, 1, 1]);
    assert.deepEqual(a.fpr, [0, 0, 0.5, 1]);
    assert.deepEqual(a.tpr, [0, 0.5, 1, 1]);
    assert.deepEqual(b, a);
    assert.equal(rocAucOfCurve(a), 0.875);
    assert.equal(mannWhitneyAuc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]), 0.875);
  });
  it('gives 0.5 when every score is the same', () => {
    const curve = rocCurve([0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0]);
    assert.deepEqual(curve.fpr, [0, 1]);
    assert.deepEqual(curve.tpr, [0, 1]);
    assert.equal(rocAucOfCurve(curve), 0.5);
  });
  it('gives 1 for a perfect classifier and 0 for a reversed one', () => {
    assert.equal(rocAuc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]), 1);
    assert.equal(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  });
  it('is undefined when a class is absent, with NaN rates for the missing class', () => {
    const allNegative = rocCurve([0.2, 0.7], [0, 0]);
    assert.ok(allNegative.tpr.every(Number.isNaN));
    assert.deepEqual(allNegative.fpr, [0, 0.5, 1]);
    assert.ok(Number.isNaN(rocAucOfCurve(allNegative)));
    assert.ok(Number.isNaN(rocAuc([0.2, 0.7], [1, 1])));
    assert.ok(Number.isNaN(rocAuc([], [])));
  });
  it('AUC equals the trapezoid rule over the returned points exactly, and the Mann-Whitney statistic', () => {
    const rand = seededRandom(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 50 + trial * 10;
      const labels = Array.from({ length: n }, () => (rand() < 0.35 ? 1 : 0));
      // rounding to one decimal makes many ties
      const scores = labels.map((l) => Math.round((l * 0.3 + rand() * 0.7) * 10) / 10);
      const curve = rocCurve(scores, labels);
      let area = 0;
      for (let i = 1; i < curve.fpr.length; i++) {
        area += ((curve.fpr[i]! - curve.fpr[i - 1]!) * (curve.tpr[i]! + curve.tpr[i - 1]!)) / 2;
      }
      assert.equal(rocAucOfCurve(curve), area);
      assert.ok(Math.abs(area - mannWhitneyAuc(scores, labels)) < 1e-12);
      // one point per distinct score plus the start
      assert.equal(curve.fpr.length, new Set(scores).size + 1);
    }
  });
  it('trapezoid integrates a straight line exactly and rejects mismatched arrays', () => {
    assert.equal(trapezoid([0, 0.5, 1], [0, 0.5, 1]), 0.5);
    assert.equal(trapezoid([0], [1]), 0);
    assert.throws(() => trapezoid([0, 1], [0]), RangeError);
  });
});

describe('precision-recall curve and average precision', () => {
  it('matches scikit-learn on its documented example (AP 0.8333)', () => {
    const curve = precisionRecallCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
    assert.deepEqual(curve.recall, [0, 0.5, 0.5, 1]);
    assert.deepEqual(curve.precision, [1, 1, 0.5, 2 / 3]);
    assert.deepEqual(curve.thresholds, [Number.POSITIVE_INFINITY, 0.8, 0.4, 0.35]);
    assert.ok(Math.abs(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) - 5 / 6) < 1e-12);
  });
  it('perfect classifier: AP 1; tied scores: AP = prevalence', () => {
    assert.equal(averagePrecision([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]), 1);
    assert.equal(averagePrecision([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]), 0.5);
  });
  it('all positive: AP 1; all negative: undefined', () => {
    assert.equal(averagePrecision([0.3, 0.6], [1, 1]), 1);
    assert.ok(Number.isNaN(averagePrecision([0.3, 0.6], [0, 0])));
  });
  it('reversed classifier: AP is the precision reached only at full recall', () => {
    // ranks negatives first: the one positive comes last, precision 1/4 when it is found
    assert.equal(averagePrecision([0.1, 0.9, 0.8, 0.7], [1, 0, 0, 0]), 0.25);
  });
});
