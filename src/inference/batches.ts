// Walking a list of slice indices in batches, each batch in its own tidy scope.
import { tidy } from '../engine/index.ts';
import { checkBatchSize } from './batch-size.ts';

export function forEachBatch(
  indices: ArrayLike<number>,
  batchSize: number,
  fn: (batch: number[], first: number) => void,
): void {
  checkBatchSize(batchSize);
  for (let start = 0; start < indices.length; start += batchSize) {
    const batch = Array.from(
      { length: Math.min(batchSize, indices.length - start) },
      (_, k) => indices[start + k]!,
    );
    tidy(() => fn(batch, start));
  }
}
