// The two segmentation summaries of an evaluation: the segmenter alone on true tumour slices, and the whole
// pipeline per patient volume (the primary figure). The figures themselves are segmentationScores'
// (src/metrics/segmentation.ts), the one definition training's validation uses too.
import { type Overlap, segmentationScores, sumOverlaps } from '../metrics/segmentation.ts';
import { recordsByPatient, type SliceRecord } from './slices.ts';

export interface SegmenterSliceSummary {
  /** Mean over ground-truth tumour slices of the per-slice Dice (never 0/0 there: the truth is non-empty). */
  meanSliceDice: number;
  meanSliceIoU: number;
  /** Number of slices averaged. */
  slices: number;
}

/** Segmenter alone, ungated, on the slices whose ground truth holds tumour; empty slices do not count. */
export function segmenterSliceSummary(records: readonly SliceRecord[]): SegmenterSliceSummary {
  const overlaps: Overlap[] = [];
  for (const r of records) {
    if (r.trueLabel !== 1) continue;
    if (r.segmenter === undefined) {
      throw new RangeError(`tumour slice ${r.slice} of ${r.patient} has no segmenter result`);
    }
    overlaps.push(r.segmenter);
  }
  const scores = segmentationScores([overlaps]);
  return {
    meanSliceDice: scores.meanSliceDice,
    meanSliceIoU: scores.meanSliceIoU,
    slices: scores.tumourSlices,
  };
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
  return endToEndScores(records).perPatient;
}

function endToEndScores(records: readonly SliceRecord[]) {
  const patients = [...recordsByPatient(records)];
  const scores = segmentationScores(patients.map(([, slices]) => slices.map((s) => s.endToEnd)));
  const perPatient = patients.map(([patient, slices], p) => ({
    patient,
    dice: scores.patientDice[p]!,
    iou: scores.patientIoU[p]!,
    ...sumOverlaps(slices.map((s) => s.endToEnd)),
    slices: slices.length,
  }));
  return { scores, perPatient };
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
  const { scores, perPatient } = endToEndScores(records);
  let falseNegativeSlices = 0;
  let falsePositiveSlices = 0;
  for (const r of records) {
    const predicted = r.endToEnd.predVoxels > 0;
    if (r.trueLabel === 1 && !predicted) falseNegativeSlices++;
    if (r.trueLabel === 0 && predicted) falsePositiveSlices++;
  }
  return {
    meanPatientDice: scores.meanPatientDice,
    medianPatientDice: scores.medianPatientDice,
    meanPatientIoU: scores.meanPatientIoU,
    undefinedDicePatients: scores.undefinedPatients,
    perPatient,
    falseNegativeSlices,
    falsePositiveSlices,
  };
}
