// Cutting a list of slices into inference batches, without the engine (the browser batches the same way).

/** A batch size must be a whole number ≥ 1: 0 or NaN would never advance through the slices. */
export function checkBatchSize(batch: number): void {
  if (!Number.isSafeInteger(batch) || batch < 1)
    throw new RangeError(`batch size must be an integer ≥ 1, got ${batch}`);
}

/** The items in runs of at most `batch`, in order. */
export function batchesOf<T>(items: readonly T[], batch: number): T[][] {
  checkBatchSize(batch);
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += batch) out.push(items.slice(start, start + batch));
  return out;
}
