import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCurvesJson, curvesJsonSchema } from '../../src/eval/curves-json.ts';
import { buildEvaluation } from '../../src/eval/evaluation.ts';
import { buildMetricsJson, type MetricsInput, metricsJsonSchema } from '../../src/eval/metrics-json.ts';
import { handRecords, randomRecords, testModels } from './fixtures.ts';

const close = (actual: number | null, expected: number) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);

const input: MetricsInput = {
  slices: handRecords,
  threshold: 0.5,
  models: testModels,
  commit: 'f1f99ba',
  seed: 42,
  timings: { classifierSeconds: 1.5, segmenterSeconds: 2 },
};

describe('metrics.json', () => {
  const m = buildMetricsJson(input);
  it('has exactly the documented keys', () => {
    assert.deepEqual(Object.keys(m), [
      'classification',
      'segmentation',
      'endToEnd',
      'data',
      'models',
      'commit',
      'seed',
      'timings',
    ]);
    assert.deepEqual(Object.keys(m.classification).sort(), [
      'accuracy',
      'auc',
      'confusion',
      'f1',
      'macroAvg',
      'patientLevel',
      'perClass',
      'precision',
      'recall',
      'specificity',
      'threshold',
      'weightedAvg',
    ]);
    assert.deepEqual(Object.keys(m.endToEnd.perPatient[0]!).sort(), [
      'dice',
      'id',
      'iou',
      'predVoxels',
      'trueVoxels',
    ]);
  });
  it('holds the hand-computed slice classification', () => {
    // tp: A1 C1; fn: A3; fp: B2 C2; tn: A2 B1
    assert.deepEqual(m.classification.confusion, { tp: 2, fp: 2, tn: 2, fn: 1 });
    close(m.classification.accuracy, 4 / 7);
    close(m.classification.precision, 0.5);
    close(m.classification.recall, 2 / 3);
    close(m.classification.specificity, 0.5);
    close(m.classification.f1, 4 / 7);
    // positives .9 .3 .7 against negatives .2 .1 .6 .8: 4 + 2 + 3 of 12 pairs
    assert.equal(m.classification.auc, 0.75);
    assert.equal(m.classification.threshold, 0.5);
    assert.equal(m.classification.perClass.tumour.support, 3);
    assert.equal(m.classification.perClass.noTumour.support, 4);
    close(m.classification.perClass.noTumour.precision, 2 / 3);
    assert.equal(m.classification.patientLevel.recall, 1);
  });
  it('holds the hand-computed segmentation and end-to-end figures', () => {
    close(m.segmentation.meanSliceDice, 8 / 9);
    close(m.segmentation.meanSliceIoU, 5 / 6);
    assert.equal(m.segmentation.slices, 3);
    close(m.endToEnd.meanPatientDice, 13 / 21);
    close(m.endToEnd.meanPatientIoU, 0.45);
    assert.equal(m.endToEnd.undefinedDicePatients, 1);
    assert.deepEqual(m.endToEnd.perPatient[1], {
      id: 'B',
      dice: null,
      iou: null,
      trueVoxels: 0,
      predVoxels: 0,
    });
    assert.equal(m.endToEnd.falseNegativeSlices, 1);
    assert.equal(m.endToEnd.falsePositiveSlices, 1);
    assert.deepEqual(m.data, { patients: 3, slices: 7, tumourSlices: 3 });
  });
  it('survives a JSON round trip and validates against the exported schema', () => {
    const reread = metricsJsonSchema.parse(JSON.parse(JSON.stringify(m)));
    assert.deepEqual(reread, m);
  });
  it('writes undefined figures as null, never NaN', () => {
    const allNegative = buildMetricsJson({ ...input, slices: handRecords.filter((r) => r.trueLabel === 0) });
    assert.equal(allNegative.classification.auc, null);
    assert.equal(allNegative.classification.recall, null);
    assert.equal(allNegative.segmentation.meanSliceDice, null);
    assert.equal(allNegative.endToEnd.meanPatientDice, 0); // C2's false positive makes C a Dice-0 volume
    assert.equal(allNegative.endToEnd.undefinedDicePatients, 2);
    assert.ok(!JSON.stringify(allNegative).includes('NaN'));
  });
  it('the schema rejects extra keys, ratios outside [0, 1] and bad hashes', () => {
    assert.throws(() => metricsJsonSchema.parse({ ...m, extra: 1 }));
    assert.throws(() =>
      metricsJsonSchema.parse({ ...m, classification: { ...m.classification, accuracy: 1.5 } }),
    );
    const badModels = {
      ...testModels,
      segmenter: { ...testModels.segmenter, files: [{ path: 'x', sha256: 'nothex' }] },
    };
    assert.throws(() => buildMetricsJson({ ...input, models: badModels }));
  });
  it('an empty evaluation gives counts of 0 and undefined figures, still valid', () => {
    const empty = buildMetricsJson({ ...input, slices: [] });
    assert.deepEqual(empty.data, { patients: 0, slices: 0, tumourSlices: 0 });
    assert.equal(empty.classification.accuracy, null);
    assert.equal(empty.endToEnd.meanPatientDice, null);
    assert.deepEqual(empty.endToEnd.perPatient, []);
  });
  it('rejects inconsistent slice records', () => {
    assert.throws(() => buildMetricsJson({ ...input, slices: [...handRecords, handRecords[0]!] }), /twice/);
  });
});

describe('curves.json', () => {
  it('holds the ROC points whose trapezoid area is the AUC of metrics.json', () => {
    const records = randomRecords(6, 30, 3);
    const curves = buildCurvesJson(records);
    const m = buildMetricsJson({ ...input, slices: records });
    const p = curves.roc.points;
    assert.equal(p[0]!.threshold, null); // +Infinity
    let area = 0;
    for (let i = 1; i < p.length; i++)
      area += ((p[i]!.fpr! - p[i - 1]!.fpr!) * (p[i]!.tpr! + p[i - 1]!.tpr!)) / 2;
    assert.equal(curves.roc.auc, area);
    assert.equal(m.classification.auc, area);
    assert.equal(curves.precisionRecall.baseline, m.data.tumourSlices / m.data.slices);
    assert.deepEqual(curvesJsonSchema.parse(JSON.parse(JSON.stringify(curves))), curves);
  });
});

describe('buildEvaluation', () => {
  it('gives both files from one list of records', () => {
    const e = buildEvaluation(input);
    assert.deepEqual(e.metrics, buildMetricsJson(input));
    assert.deepEqual(e.curves, buildCurvesJson(handRecords));
    assert.equal(e.curves.roc.auc, e.metrics.classification.auc);
  });
});
