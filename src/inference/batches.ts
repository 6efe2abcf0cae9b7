// Walking a list of slice indices in batches, each batch in its own tidy scope.
import { tidy } from '../engine/index.ts';
import { requireInteger } from '../train/training-options.ts';

export function forEachBatch(
  indices: ArrayLike<number>,
  batchSize: number,
  fn: (batch: number[], first: number) => void,
): void {
  requireInteger('batch size', batchSize, 1); // 0 or NaN would never advance through the indices
  for (let start = 0; start < indices.length; start += batchSize) {
    const batch = Array.from(
      { length: Math.min(batchSize, indices.length - start) },
      (_, k) => indices[start + k]!,
    );
    tidy(() => fn(batch, start));
  }
}
