// Picks the slices the report shows: the best and the worst true tumour slices by end-to-end Dice, so a reader
// sees typical successes and failures, not hand-picked ones.
import { dice } from '../metrics/segmentation.ts';
import type { SliceRecord } from './slices.ts';

export interface GallerySelection {
  best: SliceRecord[];
  worst: SliceRecord[];
}

/** Up to `count` best and `count` worst tumour slices (disjoint); ties go to the lower patient id, then slice. */
export function selectGallerySlices(records: readonly SliceRecord[], count: number): GallerySelection {
  const ranked = records
    .filter((r) => r.trueLabel === 1)
    .map((r) => ({ r, dice: dice(r.endToEnd) }))
    .sort(
      (a, b) =>
        b.dice - a.dice ||
        (a.r.patient < b.r.patient ? -1 : a.r.patient > b.r.patient ? 1 : a.r.slice - b.r.slice),
    )
    .map((x) => x.r);
  const best = ranked.slice(0, Math.min(count, Math.ceil(ranked.length / 2)));
  // (slice(-0) would be the whole list, so count 0 is handled apart.)
  const worst = count === 0 ? [] : ranked.slice(best.length).slice(-count).reverse();
  return { best, worst };
}
