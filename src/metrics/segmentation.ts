// Overlap of binary masks, Dice and IoU. Masks are Uint8Array, any non-zero value is tumour (the dataset's masks
// hold 0 and 255, model outputs 0 and 1). Metrics work on voxel counts, so a whole volume is the sum of its slices.
import { ratio } from './stats.ts';

export interface Overlap {
  /** Voxels that are tumour in both masks. */
  intersection: number;
  trueVoxels: number;
  predVoxels: number;
}

export const emptyOverlap: Readonly<Overlap> = Object.freeze({
  intersection: 0,
  trueVoxels: 0,
  predVoxels: 0,
});

export function maskOverlap(trueMask: Uint8Array, predMask: Uint8Array): Overlap {
  if (trueMask.length !== predMask.length) {
    throw new RangeError(`masks differ in size: true ${trueMask.length}, predicted ${predMask.length}`);
  }
  let intersection = 0;
  let trueVoxels = 0;
  let predVoxels = 0;
  for (let i = 0; i < trueMask.length; i++) {
    const t = trueMask[i] !== 0;
    const p = predMask[i] !== 0;
    if (t) trueVoxels++;
    if (p) predVoxels++;
    if (t && p) intersection++;
  }
  return { intersection, trueVoxels, predVoxels };
}

/** Voxel counts pooled over several slices (a patient's volume). */
export function sumOverlaps(overlaps: Iterable<Overlap>): Overlap {
  const sum = { intersection: 0, trueVoxels: 0, predVoxels: 0 };
  for (const o of overlaps) {
    sum.intersection += o.intersection;
    sum.trueVoxels += o.trueVoxels;
    sum.predVoxels += o.predVoxels;
  }
  return sum;
}

/** 2|T∩P| / (|T| + |P|); NaN when both masks are empty (undefined, not 1). */
export function dice(o: Overlap): number {
  return ratio(2 * o.intersection, o.trueVoxels + o.predVoxels);
}

/** |T∩P| / |T∪P| (Jaccard); NaN when both masks are empty. */
export function iou(o: Overlap): number {
  return ratio(o.intersection, o.trueVoxels + o.predVoxels - o.intersection);
}
