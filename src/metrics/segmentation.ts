// Overlap of binary masks, Dice and IoU. Masks are Uint8Array, any non-zero value is tumour (the dataset's masks
// hold 0 and 255, model outputs 0 and 1). Metrics work on voxel counts, so a whole volume is the sum of its slices.
import { mean, median, ratio } from './stats.ts';

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

/** The segmentation figures of a set of patient volumes (docs/METRICS.md), defined here once. */
export interface SegmentationScores {
  /** Dice of each volume, its slices' voxels pooled; NaN where neither mask holds tumour. */
  patientDice: number[];
  patientIoU: number[];
  /** Over the volumes whose Dice is defined. */
  meanPatientDice: number;
  medianPatientDice: number;
  meanPatientIoU: number;
  /** Volumes with neither true nor predicted tumour, left out of the means. */
  undefinedPatients: number;
  /** Per-slice Dice and IoU averaged over the slices whose truth holds tumour (never 0/0 there). */
  meanSliceDice: number;
  meanSliceIoU: number;
  tumourSlices: number;
}

/** Scores of patient volumes, each given as the overlaps of its slices. */
export function segmentationScores(volumes: readonly (readonly Overlap[])[]): SegmentationScores {
  const pooled = volumes.map((slices) => sumOverlaps(slices));
  const patientDice = pooled.map(dice);
  const patientIoU = pooled.map(iou);
  const defined = (xs: number[]) => xs.filter((x) => !Number.isNaN(x));
  const sliceDice: number[] = [];
  const sliceIoU: number[] = [];
  for (const slices of volumes)
    for (const o of slices) {
      if (o.trueVoxels === 0) continue;
      sliceDice.push(dice(o));
      sliceIoU.push(iou(o));
    }
  return {
    patientDice,
    patientIoU,
    meanPatientDice: mean(defined(patientDice)),
    medianPatientDice: median(defined(patientDice)),
    meanPatientIoU: mean(defined(patientIoU)),
    undefinedPatients: patientDice.length - defined(patientDice).length,
    meanSliceDice: mean(sliceDice),
    meanSliceIoU: mean(sliceIoU),
    tumourSlices: sliceDice.length,
  };
}
