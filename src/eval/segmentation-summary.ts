// The two segmentation summaries of the issue: the segmenter alone on true tumour slices, and the whole
// pipeline per patient volume (the primary figure).
import { dice, iou, sumOverlaps } from '../metrics/segmentation.ts';
import { mean, median } from '../metrics/stats.ts';
import { groupByPatient, type SliceRecord } from './slices.ts';

export interface SegmenterSliceSummary {
  /** Mean over ground-truth tumour slices of the per-slice Dice (never 0/0 there: the truth is non-empty). */
  meanSliceDice: number;
  meanSliceIoU: number;
  /** Number of slices averaged. */
  slices: number;
}

/** Segmenter alone, ungated, on the slices whose ground truth holds tumour; empty slices do not count. */
export function segmenterSliceSummary(records: readonly SliceRecord[]): SegmenterSliceSummary {
  const dices: number[] = [];
  const ious: number[] = [];
  for (const r of records) {
    if (r.trueLabel !== 1) continue;
    if (r.segmenter === undefined) {
      throw new RangeError(`tumour slice ${r.slice} of ${r.patient} has no segmenter result`);
    }
    dices.push(dice(r.segmenter));
    ious.push(iou(r.segmenter));
  }
  return { meanSliceDice: mean(dices), meanSliceIoU: mean(ious), slices: dices.length };
}

export interface PatientSegmentation {
  patient: string;
  /** NaN when the volume has neither true nor predicted tumour. */
  dice: number;
  iou: number;
  trueVoxels: number;
  predVoxels: number;
  intersection: number;
  slices: number;
}

/** End to end, per patient: voxels of all the patient's slices pooled into one volume. */
export function patientSegmentation(records: readonly SliceRecord[]): PatientSegmentation[] {
  return [...groupByPatient(records)].map(([patient, slices]) => {
    const o = sumOverlaps(slices.map((s) => s.endToEnd));
    return { patient, dice: dice(o), iou: iou(o), ...o, slices: slices.length };
  });
}

export interface EndToEndSummary {
  /** Mean and median over the patients whose Dice is defined. */
  meanPatientDice: number;
  medianPatientDice: number;
  meanPatientIoU: number;
  /** Patients with neither true nor predicted tumour: Dice undefined, left out of the means. */
  undefinedDicePatients: number;
  perPatient: PatientSegmentation[];
  /** Slices with true tumour where the final output is empty. */
  falseNegativeSlices: number;
  /** Slices without true tumour where the final output is not empty. */
  falsePositiveSlices: number;
}

export function endToEndSummary(records: readonly SliceRecord[]): EndToEndSummary {
  const perPatient = patientSegmentation(records);
  const defined = perPatient.filter((p) => !Number.isNaN(p.dice));
  let falseNegativeSlices = 0;
  let falsePositiveSlices = 0;
  for (const r of records) {
    const predicted = r.endToEnd.predVoxels > 0;
    if (r.trueLabel === 1 && !predicted) falseNegativeSlices++;
    if (r.trueLabel === 0 && predicted) falsePositiveSlices++;
  }
  return {
    meanPatientDice: mean(defined.map((p) => p.dice)),
    medianPatientDice: median(defined.map((p) => p.dice)),
    meanPatientIoU: mean(defined.map((p) => p.iou)),
    undefinedDicePatients: perPatient.length - defined.length,
    perPatient,
    falseNegativeSlices,
    falsePositiveSlices,
  };
}
