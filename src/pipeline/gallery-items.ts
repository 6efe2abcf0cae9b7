// The report's gallery: the best and worst tumour slices by end-to-end Dice, with their MRI, true mask and
// final output at the segmenter's size.
import type { SliceCache } from '../data/slice-cache.ts';
import { selectGallerySlices } from '../eval/gallery.ts';
import { type GalleryItem, galleryItem } from '../eval/report/index.ts';
import type { SliceRecord } from '../eval/slices.ts';
import { trueMask } from './evaluation-volumes.ts';

export async function galleryItems(
  records: readonly SliceRecord[],
  count: number,
  /** The slices at the segmenter's size, with their true masks. */
  cache: SliceCache,
  /** The final output of every true tumour slice, by cache index (see pipelineRecords). */
  finalMasks: ReadonlyMap<number, Uint8Array>,
): Promise<GalleryItem[]> {
  const selection = selectGallerySlices(records, count);
  const chosen = [
    ...selection.best.map((r) => ['best', r] as const),
    ...selection.worst.map((r) => ['worst', r] as const),
  ];
  const pixels = cache.width * cache.height;
  const position = new Map(cache.slices.map((s, i) => [`${s.patientId}#${s.sliceNumber}`, i]));
  const indices = chosen.map(([, r]) => position.get(`${r.patient}#${r.slice}`)!);
  const items: GalleryItem[] = [];
  for (const [k, [kind, record]] of chosen.entries()) {
    const i = indices[k]!;
    const mri = {
      data: cache.images.subarray(i * pixels * 3, (i + 1) * pixels * 3),
      width: cache.width,
      height: cache.height,
      channels: 3 as const,
    };
    items.push(await galleryItem(kind, record, mri, trueMask(cache, i), finalMasks.get(i)!));
  }
  return items;
}
