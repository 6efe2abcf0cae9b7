// The classification report of scikit-learn's classification_report, for the two classes 'no tumour' and 'tumour'.
import { f1, precision, recall } from './classification.ts';
import type { ConfusionCounts } from './confusion.ts';

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Number of items whose true label is this class. */
  support: number;
}

export interface ClassificationReport {
  perClass: { noTumour: ClassScores; tumour: ClassScores };
  macroAvg: ClassScores;
  weightedAvg: ClassScores;
}

/** The counts seen from the other class: 'no tumour' as the positive class. */
function swapClasses(c: ConfusionCounts): ConfusionCounts {
  return { tp: c.tn, fp: c.fn, tn: c.tp, fn: c.fp };
}

function classScores(c: ConfusionCounts): ClassScores {
  return { precision: precision(c), recall: recall(c), f1: f1(c), support: c.tp + c.fn };
}

/** Weighted mean over the classes where the value is defined (scikit-learn's _nanaverage); NaN if none is. */
function nanAverage(values: readonly number[], weights: readonly number[]): number {
  let sum = 0;
  let weightSum = 0;
  values.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    sum += v * weights[i]!;
    weightSum += weights[i]!;
  });
  return weightSum === 0 ? Number.NaN : sum / weightSum;
}

export function classificationReport(c: ConfusionCounts): ClassificationReport {
  const noTumour = classScores(swapClasses(c));
  const tumour = classScores(c);
  const classes = [noTumour, tumour];
  const support = noTumour.support + tumour.support;
  const average = (weights: number[]): ClassScores => {
    const of = (key: 'precision' | 'recall' | 'f1') =>
      nanAverage(
        classes.map((s) => s[key]),
        weights,
      );
    return { precision: of('precision'), recall: of('recall'), f1: of('f1'), support };
  };
  return {
    perClass: { noTumour, tumour },
    macroAvg: average([1, 1]),
    weightedAvg: average(classes.map((s) => s.support)),
  };
}
