// Binary classification figures from confusion counts. A ratio with a zero denominator is NaN (scikit-learn's
// zero_division=np.nan), so "no positive predictions" is not reported as a precision of 0 or 1.
import type { ConfusionCounts } from './confusion.ts';
import { ratio } from './stats.ts';

export function accuracy(c: ConfusionCounts): number {
  return ratio(c.tp + c.tn, c.tp + c.fp + c.tn + c.fn);
}

/** Positive predictive value: tp / (tp + fp). */
export function precision(c: ConfusionCounts): number {
  return ratio(c.tp, c.tp + c.fp);
}

/** Sensitivity, true positive rate: tp / (tp + fn). */
export function recall(c: ConfusionCounts): number {
  return ratio(c.tp, c.tp + c.fn);
}

/** True negative rate: tn / (tn + fp). */
export function specificity(c: ConfusionCounts): number {
  return ratio(c.tn, c.tn + c.fp);
}

/** 2tp / (2tp + fp + fn): the harmonic mean of precision and recall, and 0 (not NaN) when tp = 0 but errors exist. */
export function f1(c: ConfusionCounts): number {
  return ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
}

export interface BinaryScores {
  accuracy: number;
  precision: number;
  recall: number;
  specificity: number;
  f1: number;
}

export function binaryScores(c: ConfusionCounts): BinaryScores {
  return {
    accuracy: accuracy(c),
    precision: precision(c),
    recall: recall(c),
    specificity: specificity(c),
    f1: f1(c),
  };
}
