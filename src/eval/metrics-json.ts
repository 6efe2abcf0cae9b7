// metrics.json: every figure of an evaluation run, in a fixed shape (docs/METRICS.md), validated before it is written.
// Undefined figures (0/0) are null. The ROC and PR points live in curves.json (curves-json.ts), so that every
// plot of the report can be redrawn from these two files.
import { z } from 'zod';
import { binaryScores } from '../metrics/classification.ts';
import type { ClassScores } from '../metrics/classification-report.ts';
import { classificationReport } from '../metrics/classification-report.ts';
import { confusionAtThreshold } from '../metrics/confusion.ts';
import { rocAuc } from '../metrics/roc.ts';
import { orNull } from '../metrics/stats.ts';
import { patientClassification } from './patients.ts';
import { endToEndSummary, segmenterSliceSummary } from './segmentation-summary.ts';
import { checkSliceRecords, type SliceRecord } from './slices.ts';

/** A figure in [0, 1], or null when undefined. */
const unit = z.number().min(0).max(1).nullable();
const count = z.number().int().nonnegative();

export const confusionSchema = z.strictObject({ tp: count, fp: count, tn: count, fn: count });
const classScoresSchema = z.strictObject({ precision: unit, recall: unit, f1: unit, support: count });

const modelSchema = z.strictObject({
  name: z.string().min(1),
  config: z.record(z.string(), z.unknown()),
  files: z.array(z.strictObject({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});

export const metricsJsonSchema = z.strictObject({
  classification: z.strictObject({
    accuracy: unit,
    precision: unit,
    recall: unit,
    specificity: unit,
    f1: unit,
    auc: unit,
    /** Predict tumour iff score >= threshold; chosen on validation data. */
    threshold: z.number().min(0).max(1),
    confusion: confusionSchema,
    perClass: z.strictObject({ noTumour: classScoresSchema, tumour: classScoresSchema }),
    macroAvg: classScoresSchema,
    weightedAvg: classScoresSchema,
    /** The same figures per patient: positive if any slice is. */
    patientLevel: z.strictObject({
      patients: count,
      accuracy: unit,
      precision: unit,
      recall: unit,
      specificity: unit,
      f1: unit,
      confusion: confusionSchema,
    }),
  }),
  segmentation: z.strictObject({
    meanSliceDice: unit,
    meanSliceIoU: unit,
    /** Ground-truth tumour slices averaged. */
    slices: count,
  }),
  endToEnd: z.strictObject({
    meanPatientDice: unit,
    medianPatientDice: unit,
    meanPatientIoU: unit,
    /** Patients with neither true nor predicted tumour, left out of the means. */
    undefinedDicePatients: count,
    perPatient: z.array(
      z.strictObject({ id: z.string().min(1), dice: unit, iou: unit, trueVoxels: count, predVoxels: count }),
    ),
    falseNegativeSlices: count,
    falsePositiveSlices: count,
  }),
  data: z.strictObject({ patients: count, slices: count, tumourSlices: count }),
  models: z.strictObject({ classifier: modelSchema, segmenter: modelSchema }),
  commit: z.string().nullable(),
  seed: z.number().int().nullable(),
  /** Seconds per named phase. */
  timings: z.record(z.string(), z.number().nonnegative()),
});

export type MetricsJson = z.infer<typeof metricsJsonSchema>;
export type ModelInfo = MetricsJson['models']['classifier'];

export interface MetricsInput {
  /** Every evaluated slice, with the end-to-end output (and the segmenter alone on tumour slices). */
  slices: readonly SliceRecord[];
  /** The classifier threshold chosen on validation data (see threshold.ts). */
  threshold: number;
  models: { classifier: ModelInfo; segmenter: ModelInfo };
  commit: string | null;
  seed: number | null;
  timings: Record<string, number>;
}

/** Every field (all ratios) with NaN as null. */
function nullRatios<T extends { [K in keyof T]: number }>(figures: T): { [K in keyof T]: number | null } {
  return Object.fromEntries(Object.entries<number>(figures).map(([k, v]) => [k, orNull(v)])) as {
    [K in keyof T]: number | null;
  };
}

function classScoresJson(s: ClassScores): MetricsJson['classification']['macroAvg'] {
  return { precision: orNull(s.precision), recall: orNull(s.recall), f1: orNull(s.f1), support: s.support };
}

export function buildMetricsJson(input: MetricsInput): MetricsJson {
  const { slices, threshold } = input;
  checkSliceRecords(slices);
  const scores = slices.map((s) => s.score);
  const labels = slices.map((s) => s.trueLabel);
  const confusion = confusionAtThreshold(scores, labels, threshold);
  const report = classificationReport(confusion);
  const {
    patients: patientCount,
    confusion: patientConfusion,
    ...patientScores
  } = patientClassification(slices, threshold);
  const segmenter = segmenterSliceSummary(slices);
  const endToEnd = endToEndSummary(slices);
  const metrics: MetricsJson = {
    classification: {
      ...nullRatios(binaryScores(confusion)),
      auc: orNull(rocAuc(scores, labels)),
      threshold,
      confusion,
      perClass: {
        noTumour: classScoresJson(report.perClass.noTumour),
        tumour: classScoresJson(report.perClass.tumour),
      },
      macroAvg: classScoresJson(report.macroAvg),
      weightedAvg: classScoresJson(report.weightedAvg),
      patientLevel: { patients: patientCount, ...nullRatios(patientScores), confusion: patientConfusion },
    },
    segmentation: {
      meanSliceDice: orNull(segmenter.meanSliceDice),
      meanSliceIoU: orNull(segmenter.meanSliceIoU),
      slices: segmenter.slices,
    },
    endToEnd: {
      meanPatientDice: orNull(endToEnd.meanPatientDice),
      medianPatientDice: orNull(endToEnd.medianPatientDice),
      meanPatientIoU: orNull(endToEnd.meanPatientIoU),
      undefinedDicePatients: endToEnd.undefinedDicePatients,
      perPatient: endToEnd.perPatient.map((p) => ({
        id: p.patient,
        dice: orNull(p.dice),
        iou: orNull(p.iou),
        trueVoxels: p.trueVoxels,
        predVoxels: p.predVoxels,
      })),
      falseNegativeSlices: endToEnd.falseNegativeSlices,
      falsePositiveSlices: endToEnd.falsePositiveSlices,
    },
    data: {
      patients: endToEnd.perPatient.length,
      slices: slices.length,
      tumourSlices: labels.filter((l) => l === 1).length,
    },
    models: input.models,
    commit: input.commit,
    seed: input.seed,
    timings: input.timings,
  };
  return metricsJsonSchema.parse(metrics);
}
