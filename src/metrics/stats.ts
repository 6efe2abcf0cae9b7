// Small numeric helpers shared by the metrics. Undefined quantities are NaN here and null in JSON, never a
// silent 0 or 1: a metric that cannot be computed must look different from a bad or a perfect one.

/** numerator / denominator, or NaN when the denominator is 0. */
export function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? Number.NaN : numerator / denominator;
}

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Median (mean of the two middle values for an even count); NaN for an empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** NaN becomes null so that JSON keeps an undefined metric as undefined (JSON.stringify would write null anyway). */
export function orNull(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

/** Sample standard deviation (n − 1 in the denominator, as for folds drawn from a population); NaN below two values. */
export function sampleStandardDeviation(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const m = mean(values);
  let sum = 0;
  for (const v of values) sum += (v - m) ** 2;
  return Math.sqrt(sum / (values.length - 1));
}
