// Checks shared by every function that takes per-item scores and 0/1 ground-truth labels.

/** Throws unless labels are all 0 or 1 and, when given, scores are finite and as many as the labels. */
export function checkBinaryInputs(labels: ArrayLike<number>, scores?: ArrayLike<number>): void {
  if (scores !== undefined && scores.length !== labels.length) {
    throw new RangeError(`scores (${scores.length}) and labels (${labels.length}) differ in length`);
  }
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label !== 0 && label !== 1) throw new RangeError(`label ${i} is ${label}, expected 0 or 1`);
    if (scores !== undefined && !Number.isFinite(scores[i])) {
      throw new RangeError(`score ${i} is ${scores[i]}, expected a finite number`);
    }
  }
}

/** Number of positive (1) labels. */
export function countPositives(labels: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) n++;
  return n;
}
