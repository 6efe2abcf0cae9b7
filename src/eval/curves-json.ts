// curves.json: the ROC and precision-recall points behind the report's curves, one object per point so a
// plotting tool can read them as they are. A +Infinity threshold (the curve's start) is written as null.
import { z } from 'zod';
import { averagePrecisionOfCurve, precisionRecallCurve } from '../metrics/precision-recall.ts';
import { rocAucOfCurve, rocCurve } from '../metrics/roc.ts';
import { orNull } from '../metrics/stats.ts';
import type { SliceRecord } from './slices.ts';

const unit = z.number().min(0).max(1).nullable();
const threshold = z.number().nullable();

export const rocJsonSchema = z.strictObject({
  auc: unit,
  points: z.array(z.strictObject({ fpr: unit, tpr: unit, threshold })),
});

export const curvesJsonSchema = z.strictObject({
  roc: rocJsonSchema,
  precisionRecall: z.strictObject({
    averagePrecision: unit,
    /** Fraction of tumour slices: the precision of a classifier that guesses. */
    baseline: unit,
    points: z.array(z.strictObject({ recall: unit, precision: unit, threshold })),
  }),
});

export type CurvesJson = z.infer<typeof curvesJsonSchema>;
export type RocJson = z.infer<typeof rocJsonSchema>;
export type RocPoint = RocJson['points'][number];
export type PrecisionRecallPoint = CurvesJson['precisionRecall']['points'][number];

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** The ROC curve of scores against 0/1 labels, with its AUC. */
export function buildRocJson(scores: ArrayLike<number>, labels: ArrayLike<number>): RocJson {
  const roc = rocCurve(scores, labels);
  return {
    auc: orNull(rocAucOfCurve(roc)),
    points: roc.fpr.map((fpr, i) => ({
      fpr: orNull(fpr),
      tpr: orNull(roc.tpr[i]!),
      threshold: finiteOrNull(roc.thresholds[i]!),
    })),
  };
}

export function buildCurvesJson(slices: readonly SliceRecord[]): CurvesJson {
  const scores = slices.map((s) => s.score);
  const labels = slices.map((s) => s.trueLabel);
  const pr = precisionRecallCurve(scores, labels);
  return curvesJsonSchema.parse({
    roc: buildRocJson(scores, labels),
    precisionRecall: {
      averagePrecision: orNull(averagePrecisionOfCurve(pr)),
      baseline: orNull(slices.length === 0 ? Number.NaN : pr.positives / slices.length),
      points: pr.recall.map((recall, i) => ({
        recall: orNull(recall),
        precision: orNull(pr.precision[i]!),
        threshold: finiteOrNull(pr.thresholds[i]!),
      })),
    },
  });
}
