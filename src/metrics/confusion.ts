// Confusion counts of a binary classifier; 'tumour' is the positive class.
import { checkBinaryInputs } from './binary-inputs.ts';

export interface ConfusionCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Counts from predicted and true 0/1 labels. */
export function confusionFromLabels(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
): ConfusionCounts {
  checkBinaryInputs(labels);
  checkBinaryInputs(predicted);
  if (predicted.length !== labels.length) {
    throw new RangeError(`predictions (${predicted.length}) and labels (${labels.length}) differ in length`);
  }
  const counts: ConfusionCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    if (predicted[i] === 1) {
      if (labels[i] === 1) counts.tp++;
      else counts.fp++;
    } else if (labels[i] === 1) counts.fn++;
    else counts.tn++;
  }
  return counts;
}

/** Counts when an item is predicted positive iff its score >= threshold (the rule used everywhere in eval). */
export function confusionAtThreshold(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): ConfusionCounts {
  checkBinaryInputs(labels, scores);
  const predicted = Array.from(scores, (s) => (s >= threshold ? 1 : 0));
  return confusionFromLabels(predicted, labels);
}
