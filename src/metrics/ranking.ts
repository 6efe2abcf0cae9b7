// Walks the items from the highest score down, one step per distinct score, so tied scores move a curve in one
// step (a diagonal segment of the ROC curve), never in an order that depends on how ties were sorted.
import { checkBinaryInputs, countPositives } from './binary-inputs.ts';

export interface ThresholdStep {
  /** Items with score >= threshold are predicted positive. */
  threshold: number;
  /** Cumulative true and false positives at this threshold. */
  tp: number;
  fp: number;
}

export interface Ranking {
  positives: number;
  negatives: number;
  /** One step per distinct score, thresholds strictly decreasing. */
  steps: ThresholdStep[];
}

export function rankByScore(scores: ArrayLike<number>, labels: ArrayLike<number>): Ranking {
  checkBinaryInputs(labels, scores);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const steps: ThresholdStep[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (labels[i] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || scores[next] !== scores[i]) steps.push({ threshold: scores[i]!, tp, fp });
  }
  const positives = countPositives(labels);
  return { positives, negatives: labels.length - positives, steps };
}
