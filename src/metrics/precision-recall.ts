// Precision-recall curve and average precision, as scikit-learn's precision_recall_curve and
// average_precision_score: AP = sum over thresholds of (R_n - R_(n-1)) * P_n, a step function, no interpolation
// (the trapezoid rule on a PR curve is optimistic).
import { rankByScore } from './ranking.ts';
import { ratio } from './stats.ts';

export interface PrecisionRecallCurve {
  /** Recall at each point, from 0 up to 1. */
  recall: number[];
  precision: number[];
  /** The first point (recall 0, precision 1) has threshold +Infinity; the others: positive iff score >= threshold. */
  thresholds: number[];
  positives: number;
}

/**
 * One point per distinct score, from the highest down, stopping at the first threshold that reaches full recall
 * (lower thresholds only add false positives). Recall is NaN everywhere when there are no positives.
 */
export function precisionRecallCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): PrecisionRecallCurve {
  const { positives, steps } = rankByScore(scores, labels);
  const curve: PrecisionRecallCurve = {
    recall: [ratio(0, positives)],
    precision: [1],
    thresholds: [Number.POSITIVE_INFINITY],
    positives,
  };
  for (const step of steps) {
    curve.recall.push(ratio(step.tp, positives));
    curve.precision.push(step.tp / (step.tp + step.fp));
    curve.thresholds.push(step.threshold);
    if (step.tp === positives) break;
  }
  return curve;
}

/** Average precision of a PR curve; NaN when there are no positives. */
export function averagePrecisionOfCurve(curve: PrecisionRecallCurve): number {
  if (curve.positives === 0) return Number.NaN;
  let ap = 0;
  for (let i = 1; i < curve.recall.length; i++) {
    ap += (curve.recall[i]! - curve.recall[i - 1]!) * curve.precision[i]!;
  }
  return ap;
}

export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return averagePrecisionOfCurve(precisionRecallCurve(scores, labels));
}
