import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accuracy,
  binaryScores,
  f1,
  precision,
  recall,
  specificity,
} from '../../src/metrics/classification.ts';
import { classificationReport } from '../../src/metrics/classification-report.ts';
import { confusionAtThreshold, confusionFromLabels } from '../../src/metrics/confusion.ts';

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);

describe('confusion counts', () => {
  it('counts a score equal to the threshold as positive', () => {
    const c = confusionAtThreshold([0.9, 0.8, 0.3, 0.6, 0.1, 0.5], [1, 1, 1, 0, 0, 0], 0.5);
    assert.deepEqual(c, { tp: 2, fp: 2, tn: 1, fn: 1 });
  });
  it('accepts typed arrays', () => {
    const c = confusionAtThreshold(new Float32Array([0.25, 0.75]), new Uint8Array([0, 1]), 0.5);
    assert.deepEqual(c, { tp: 1, fp: 0, tn: 1, fn: 0 });
  });
  it('counts from predicted labels', () => {
    assert.deepEqual(confusionFromLabels([1, 0, 1, 0], [1, 1, 0, 0]), { tp: 1, fp: 1, tn: 1, fn: 1 });
  });
  it('rejects labels other than 0 and 1, NaN scores and length mismatches', () => {
    assert.throws(() => confusionAtThreshold([0.5], [2], 0.5), RangeError);
    assert.throws(() => confusionAtThreshold([Number.NaN], [1], 0.5), RangeError);
    assert.throws(() => confusionAtThreshold([0.5, 0.2], [1], 0.5), RangeError);
    assert.throws(() => confusionFromLabels([1], [1, 0]), RangeError);
  });
});

describe('binary scores', () => {
  const c = { tp: 2, fp: 2, tn: 1, fn: 1 };
  it('match hand-computed values', () => {
    assert.equal(accuracy(c), 0.5);
    assert.equal(precision(c), 0.5);
    close(recall(c), 2 / 3);
    close(specificity(c), 1 / 3);
    close(f1(c), 4 / 7);
  });
  it('f1 is the harmonic mean of precision and recall', () => {
    const p = precision(c);
    const r = recall(c);
    close(f1(c), (2 * p * r) / (p + r));
  });
  it('all negative, none predicted: precision, recall, f1 undefined; accuracy and specificity 1', () => {
    const s = binaryScores({ tp: 0, fp: 0, tn: 5, fn: 0 });
    assert.equal(s.accuracy, 1);
    assert.equal(s.specificity, 1);
    assert.ok(Number.isNaN(s.precision));
    assert.ok(Number.isNaN(s.recall));
    assert.ok(Number.isNaN(s.f1));
  });
  it('all positive, all predicted: specificity undefined, the rest 1', () => {
    const s = binaryScores({ tp: 4, fp: 0, tn: 0, fn: 0 });
    assert.deepEqual(
      { accuracy: s.accuracy, precision: s.precision, recall: s.recall, f1: s.f1 },
      { accuracy: 1, precision: 1, recall: 1, f1: 1 },
    );
    assert.ok(Number.isNaN(s.specificity));
  });
  it('all positive, none predicted: recall and f1 are 0, precision undefined', () => {
    const s = binaryScores({ tp: 0, fp: 0, tn: 0, fn: 3 });
    assert.equal(s.recall, 0);
    assert.equal(s.f1, 0);
    assert.equal(s.accuracy, 0);
    assert.ok(Number.isNaN(s.precision));
  });
  it('no items at all: everything undefined', () => {
    assert.ok(Object.values(binaryScores({ tp: 0, fp: 0, tn: 0, fn: 0 })).every(Number.isNaN));
  });
});

describe('classification report', () => {
  it('matches scikit-learn on unequal supports', () => {
    // labels [1,1,1,1,0,0], scores [.9,.8,.2,.7,.6,.1], threshold .5 -> tp 3, fn 1, fp 1, tn 1
    const c = confusionAtThreshold([0.9, 0.8, 0.2, 0.7, 0.6, 0.1], [1, 1, 1, 1, 0, 0], 0.5);
    assert.deepEqual(c, { tp: 3, fp: 1, tn: 1, fn: 1 });
    const r = classificationReport(c);
    assert.deepEqual(r.perClass.tumour, { precision: 0.75, recall: 0.75, f1: 0.75, support: 4 });
    assert.deepEqual(r.perClass.noTumour, { precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    assert.deepEqual(r.macroAvg, { precision: 0.625, recall: 0.625, f1: 0.625, support: 6 });
    close(r.weightedAvg.precision, 2 / 3);
    close(r.weightedAvg.f1, 2 / 3);
    // weighted recall always equals accuracy
    close(r.weightedAvg.recall, accuracy(c));
    assert.equal(r.weightedAvg.support, 6);
  });
  it("'no tumour' is the tumour class seen the other way round", () => {
    const r = classificationReport({ tp: 2, fp: 2, tn: 1, fn: 1 });
    assert.equal(r.perClass.noTumour.precision, 0.5); // tn / (tn + fn)
    close(r.perClass.noTumour.recall, 1 / 3); // the specificity
    close(r.perClass.noTumour.f1, 0.4);
    close(r.macroAvg.f1, 17 / 35);
  });
  it('all negative: tumour figures undefined, averages over the defined class only', () => {
    const r = classificationReport({ tp: 0, fp: 1, tn: 3, fn: 0 });
    assert.equal(r.perClass.tumour.support, 0);
    assert.ok(Number.isNaN(r.perClass.tumour.recall));
    assert.equal(r.perClass.tumour.precision, 0); // one false positive, no true one
    assert.equal(r.perClass.noTumour.recall, 0.75);
    assert.equal(r.macroAvg.recall, 0.75);
    assert.equal(r.macroAvg.precision, 0.5); // (1 + 0) / 2
    assert.equal(r.weightedAvg.precision, 1); // the tumour class weighs 0
  });
});
