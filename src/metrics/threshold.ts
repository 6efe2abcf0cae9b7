// Chooses the classifier's operating threshold on validation data, never on the test set.
import { rankByScore } from './ranking.ts';

export interface ThresholdChoice {
  /** Predict tumour iff score >= threshold. */
  threshold: number;
  /** Youden's J = sensitivity + specificity - 1 = tpr - fpr at that threshold. */
  youdenJ: number;
  tpr: number;
  fpr: number;
}

/**
 * The rule: among the validation scores used as thresholds (positive iff score >= threshold), take the one with
 * the largest Youden J = tpr - fpr; among equal J, the highest threshold (the fewest positive calls). J is
 * compared as the exact integer tp * N - fp * P, so ties are ties, not rounding noise. Throws if the validation
 * data lacks either class: then J is undefined and no threshold can be justified.
 */
export function chooseThresholdYouden(scores: ArrayLike<number>, labels: ArrayLike<number>): ThresholdChoice {
  const { positives, negatives, steps } = rankByScore(scores, labels);
  if (positives === 0 || negatives === 0) {
    throw new RangeError(
      `choosing a threshold needs both classes in the validation data (${positives} positive, ${negatives} negative)`,
    );
  }
  let best = steps[0]!;
  let bestScore = best.tp * negatives - best.fp * positives;
  // steps run from the highest threshold down, so a strict > keeps the highest threshold among ties.
  for (const step of steps) {
    const score = step.tp * negatives - step.fp * positives;
    if (score > bestScore) {
      best = step;
      bestScore = score;
    }
  }
  const tpr = best.tp / positives;
  const fpr = best.fp / negatives;
  return { threshold: best.threshold, youdenJ: tpr - fpr, tpr, fpr };
}
