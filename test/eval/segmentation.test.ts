import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { patientClassification, patientLabels } from '../../src/eval/patients.ts';
import {
  endToEndSummary,
  patientSegmentation,
  segmenterSliceSummary,
} from '../../src/eval/segmentation-summary.ts';
import { checkSliceRecords, recordsByPatient, toSliceRecord } from '../../src/eval/slices.ts';
import { dice, iou, maskOverlap, segmentationScores, sumOverlaps } from '../../src/metrics/segmentation.ts';
import { handRecords } from './fixtures.ts';

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);

describe('mask overlap, Dice and IoU', () => {
  it('counts any non-zero value as tumour (0/255 truth against 0/1 prediction)', () => {
    const o = maskOverlap(new Uint8Array([0, 255, 255, 0, 0, 255]), new Uint8Array([0, 1, 0, 0, 1, 1]));
    assert.deepEqual(o, { intersection: 2, trueVoxels: 3, predVoxels: 3 });
    close(dice(o), 2 / 3);
    assert.equal(iou(o), 0.5);
  });
  it('identical masks: 1; disjoint masks: 0', () => {
    const m = new Uint8Array([0, 1, 1, 0]);
    assert.equal(dice(maskOverlap(m, m)), 1);
    assert.equal(iou(maskOverlap(m, m)), 1);
    assert.equal(dice(maskOverlap(m, new Uint8Array([1, 0, 0, 1]))), 0);
  });
  it('empty truth and empty prediction: undefined, not 1', () => {
    const o = maskOverlap(new Uint8Array(16), new Uint8Array(16));
    assert.ok(Number.isNaN(dice(o)));
    assert.ok(Number.isNaN(iou(o)));
  });
  it('tumour missed entirely, or predicted where there is none: 0', () => {
    assert.equal(dice(maskOverlap(new Uint8Array([1, 1]), new Uint8Array(2))), 0);
    assert.equal(iou(maskOverlap(new Uint8Array(2), new Uint8Array([0, 1]))), 0);
  });
  it('rejects masks of different sizes', () => {
    assert.throws(() => maskOverlap(new Uint8Array(4), new Uint8Array(5)), RangeError);
  });
  it('pools voxels, not slice scores', () => {
    const pooled = sumOverlaps([
      { intersection: 2, trueVoxels: 3, predVoxels: 3 },
      { intersection: 0, trueVoxels: 0, predVoxels: 0 },
      { intersection: 0, trueVoxels: 1, predVoxels: 0 },
    ]);
    assert.deepEqual(pooled, { intersection: 2, trueVoxels: 4, predVoxels: 3 });
    close(dice(pooled), 4 / 7); // the mean of the slice Dice values would be (2/3 + 0) / 2
  });
});

describe('segmentation scores of patient volumes (the one definition)', () => {
  const o = (intersection: number, trueVoxels: number, predVoxels: number) => ({
    intersection,
    trueVoxels,
    predVoxels,
  });
  it('pools each volume, leaves out volumes with no tumour anywhere, averages over tumour slices', () => {
    const scores = segmentationScores([
      [o(2, 4, 2), o(0, 0, 2)], // pooled 2 / 4 / 4: Dice 0.5
      [o(0, 0, 0)], // nothing true, nothing predicted: undefined
      [o(3, 3, 3)], // Dice 1
      [o(0, 2, 0)], // missed: Dice 0
    ]);
    assert.deepEqual(scores.patientDice, [0.5, Number.NaN, 1, 0]);
    assert.equal(scores.undefinedPatients, 1);
    assert.equal(scores.meanPatientDice, 0.5);
    assert.equal(scores.medianPatientDice, 0.5);
    assert.equal(scores.meanPatientIoU, (1 / 3 + 1 + 0) / 3);
    // Tumour slices only: 4/6, 1 and 0.
    assert.equal(scores.tumourSlices, 3);
    assert.ok(Math.abs(scores.meanSliceDice - (4 / 6 + 1 + 0) / 3) < 1e-12);
  });
});

describe('slice records', () => {
  it('reduce masks to counts and take the label from the truth', () => {
    const r = toSliceRecord({
      patient: 'P',
      slice: 4,
      score: 0.7,
      trueMask: new Uint8Array([0, 255, 255, 0]),
      segmenterMask: new Uint8Array([0, 1, 1, 1]),
      finalMask: new Uint8Array([0, 0, 1, 0]),
    });
    assert.deepEqual(r, {
      patient: 'P',
      slice: 4,
      score: 0.7,
      trueLabel: 1,
      endToEnd: { intersection: 1, trueVoxels: 2, predVoxels: 1 },
      segmenter: { intersection: 2, trueVoxels: 2, predVoxels: 3 },
    });
    const empty = toSliceRecord({
      patient: 'P',
      slice: 5,
      score: 0.1,
      trueMask: new Uint8Array(4),
      finalMask: new Uint8Array(4),
    });
    assert.equal(empty.trueLabel, 0);
    assert.equal(empty.segmenter, undefined);
  });
  it('reject duplicates and contradictions', () => {
    assert.doesNotThrow(() => checkSliceRecords(handRecords));
    assert.throws(() => checkSliceRecords([handRecords[0]!, handRecords[0]!]), /twice/);
    assert.throws(() => checkSliceRecords([{ ...handRecords[0]!, trueLabel: 0 }]), /trueLabel/);
    assert.throws(
      () =>
        checkSliceRecords([
          { ...handRecords[0]!, endToEnd: { intersection: 4, trueVoxels: 3, predVoxels: 5 } },
        ]),
      /intersection/,
    );
  });
  it('group by patient in sorted order with slices numerically sorted', () => {
    const shuffled = [
      { ...handRecords[0]!, patient: 'b', slice: 10 },
      { ...handRecords[1]!, patient: 'a', slice: 2 },
      { ...handRecords[0]!, patient: 'b', slice: 9 },
    ];
    const groups = recordsByPatient(shuffled);
    assert.deepEqual([...groups.keys()], ['a', 'b']);
    assert.deepEqual(
      groups.get('b')!.map((r) => r.slice),
      [9, 10],
    );
  });
});

describe('segmenter alone, on ground-truth tumour slices', () => {
  it('averages slice Dice and IoU over tumour slices only', () => {
    const s = segmenterSliceSummary(handRecords);
    assert.equal(s.slices, 3);
    close(s.meanSliceDice, (2 / 3 + 1 + 1) / 3);
    close(s.meanSliceIoU, (0.5 + 1 + 1) / 3);
  });
  it('requires a segmenter result on every tumour slice', () => {
    const { segmenter: _, ...withoutSegmenter } = handRecords[0]!;
    assert.throws(() => segmenterSliceSummary([withoutSegmenter]), RangeError);
  });
  it('is undefined when no slice holds tumour', () => {
    const s = segmenterSliceSummary(handRecords.filter((r) => r.trueLabel === 0));
    assert.equal(s.slices, 0);
    assert.ok(Number.isNaN(s.meanSliceDice));
  });
});

describe('end to end, per patient volume', () => {
  it('pools each patient and marks a volume without any tumour as undefined', () => {
    const perPatient = patientSegmentation(handRecords);
    assert.deepEqual(
      perPatient.map((p) => [p.patient, p.trueVoxels, p.predVoxels, p.intersection, p.slices]),
      [
        ['A', 4, 3, 2, 3],
        ['B', 0, 0, 0, 2],
        ['C', 2, 4, 2, 2],
      ],
    );
    close(perPatient[0]!.dice, 4 / 7);
    close(perPatient[0]!.iou, 0.4);
    assert.ok(Number.isNaN(perPatient[1]!.dice));
    close(perPatient[2]!.dice, 2 / 3);
    assert.equal(perPatient[2]!.iou, 0.5);
  });
  it('leaves undefined volumes out of the mean and counts them', () => {
    const s = endToEndSummary(handRecords);
    close(s.meanPatientDice, (4 / 7 + 2 / 3) / 2);
    close(s.medianPatientDice, (4 / 7 + 2 / 3) / 2);
    close(s.meanPatientIoU, 0.45);
    assert.equal(s.undefinedDicePatients, 1);
    assert.equal(s.falseNegativeSlices, 1); // A3: tumour, nothing predicted
    assert.equal(s.falsePositiveSlices, 1); // C2: no tumour, something predicted
  });
  it('counts a volume with predicted but no true tumour as Dice 0', () => {
    const s = endToEndSummary([
      {
        patient: 'X',
        slice: 1,
        score: 0.9,
        trueLabel: 0,
        endToEnd: { intersection: 0, trueVoxels: 0, predVoxels: 7 },
      },
      {
        patient: 'Y',
        slice: 1,
        score: 0.9,
        trueLabel: 1,
        endToEnd: { intersection: 5, trueVoxels: 5, predVoxels: 5 },
      },
    ]);
    assert.deepEqual(
      s.perPatient.map((p) => p.dice),
      [0, 1],
    );
    assert.equal(s.meanPatientDice, 0.5);
    assert.equal(s.undefinedDicePatients, 0);
  });
  it('median of an odd count is the middle value', () => {
    const one = (patient: string, intersection: number) => ({
      patient,
      slice: 1,
      score: 0.9,
      trueLabel: 1 as const,
      endToEnd: { intersection, trueVoxels: 10, predVoxels: 10 },
    });
    const s = endToEndSummary([one('a', 1), one('b', 9), one('c', 3)]);
    close(s.medianPatientDice, 0.3);
    close(s.meanPatientDice, 13 / 30);
  });
});

describe('patient-level classification', () => {
  it('a patient is positive if any slice is', () => {
    assert.deepEqual(patientLabels(handRecords), {
      patients: ['A', 'B', 'C'],
      trueLabels: [1, 0, 1],
      maxScores: [0.9, 0.6, 0.8],
    });
    const c = patientClassification(handRecords, 0.5);
    assert.deepEqual(c.confusion, { tp: 2, fp: 1, tn: 0, fn: 0 });
    assert.equal(c.patients, 3);
    assert.equal(c.recall, 1);
    assert.equal(c.specificity, 0);
    close(c.precision, 2 / 3);
    close(c.accuracy, 2 / 3);
    const strict = patientClassification(handRecords, 0.85);
    assert.deepEqual(strict.confusion, { tp: 1, fp: 0, tn: 1, fn: 1 });
  });
});
