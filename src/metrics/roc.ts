// ROC curve and the area under it. The area is the trapezoid rule over exactly the points returned, so a plot of
// the curve and the reported AUC can never disagree; it equals the Mann-Whitney probability that a random tumour
// slice outscores a random tumour-free one, ties counting one half.
import { rankByScore } from './ranking.ts';
import { ratio } from './stats.ts';

export interface RocCurve {
  /** False positive rate at each point, from 0 up to 1. */
  fpr: number[];
  /** True positive rate at each point. */
  tpr: number[];
  /** thresholds[i] gives point i (positive iff score >= threshold); the first is +Infinity, the (0, 0) point. */
  thresholds: number[];
  positives: number;
  negatives: number;
}

/**
 * One point per distinct score plus the (0, 0) start; intermediate collinear points are kept (unlike
 * scikit-learn's drop_intermediate) so every threshold can be looked up. With no positives (negatives) tpr (fpr)
 * is NaN everywhere and the AUC is undefined.
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  const { positives, negatives, steps } = rankByScore(scores, labels);
  const curve: RocCurve = {
    fpr: [ratio(0, negatives)],
    tpr: [ratio(0, positives)],
    thresholds: [Number.POSITIVE_INFINITY],
    positives,
    negatives,
  };
  for (const step of steps) {
    curve.fpr.push(ratio(step.fp, negatives));
    curve.tpr.push(ratio(step.tp, positives));
    curve.thresholds.push(step.threshold);
  }
  return curve;
}

/** Trapezoid rule: sum of (x[i] - x[i-1]) * (y[i] + y[i-1]) / 2, in index order. */
export function trapezoid(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError(`x (${x.length}) and y (${y.length}) differ in length`);
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i]! - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2;
  return area;
}

/** Area under a ROC curve by the trapezoid rule over its points; NaN when a class is absent. */
export function rocAucOfCurve(curve: RocCurve): number {
  if (curve.positives === 0 || curve.negatives === 0) return Number.NaN;
  return trapezoid(curve.fpr, curve.tpr);
}

export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return rocAucOfCurve(rocCurve(scores, labels));
}
