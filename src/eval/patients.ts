// Patient-level classification: a patient is truly positive if any slice holds tumour, and predicted positive
// if any slice scores at or above the threshold. Every patient of this dataset has tumour, so only recall is
// informative there; the other figures are NaN or trivial and are reported as such.
import { type BinaryScores, binaryScores } from '../metrics/classification.ts';
import { type ConfusionCounts, confusionFromLabels } from '../metrics/confusion.ts';
import { recordsByPatient, type SliceRecord } from './slices.ts';

export interface PatientLabels {
  patients: string[];
  trueLabels: (0 | 1)[];
  /** The highest slice score of each patient: positive at a threshold iff this is >= the threshold. */
  maxScores: number[];
}

export function patientLabels(records: readonly SliceRecord[]): PatientLabels {
  const out: PatientLabels = { patients: [], trueLabels: [], maxScores: [] };
  for (const [patient, slices] of recordsByPatient(records)) {
    out.patients.push(patient);
    out.trueLabels.push(slices.some((s) => s.trueLabel === 1) ? 1 : 0);
    out.maxScores.push(Math.max(...slices.map((s) => s.score)));
  }
  return out;
}

export interface PatientClassification extends BinaryScores {
  patients: number;
  confusion: ConfusionCounts;
}

export function patientClassification(
  records: readonly SliceRecord[],
  threshold: number,
): PatientClassification {
  const { patients, trueLabels, maxScores } = patientLabels(records);
  const confusion = confusionFromLabels(
    maxScores.map((s) => (s >= threshold ? 1 : 0)),
    trueLabels,
  );
  return { patients: patients.length, ...binaryScores(confusion), confusion };
}
