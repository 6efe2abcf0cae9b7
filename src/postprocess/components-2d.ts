// 2-D connected components of slice masks, and removal of the small ones (specks of false positives).
// Default 8-connectivity: pixels touching only at a corner belong to one component, so a thin diagonal rim of a
// tumour is not cut into pieces that then fall under the minimum area.
import { type Components, labelComponents, neighbourhood } from './label-components.ts';

export type Connectivity2D = 4 | 8;

// No z offsets: on a D×H×W volume these label each slice's own 2-D components in one pass.
const NEIGHBOURS_2D: Record<Connectivity2D, ReturnType<typeof neighbourhood>> = {
  4: neighbourhood({ z: false, y: true, x: true }, 1),
  8: neighbourhood({ z: false, y: true, x: true }, 2),
};

/** Components of an H×W mask (any non-zero value is foreground), numbered in raster order. */
export function labelComponents2D(
  mask: Uint8Array,
  h: number,
  w: number,
  connectivity: Connectivity2D = 8,
): Components {
  return labelComponents(mask, 1, h, w, NEIGHBOURS_2D[connectivity]);
}

/** The 2-D components of every slice of a D×H×W volume (none spans two slices), numbered in raster order. */
export function labelSliceComponents(
  volume: Uint8Array,
  d: number,
  h: number,
  w: number,
  connectivity: Connectivity2D = 8,
): Components {
  return labelComponents(volume, d, h, w, NEIGHBOURS_2D[connectivity]);
}

/**
 * A 0/1 copy of the H×W mask without the components of fewer than `minArea` pixels (those of exactly minArea
 * stay). minArea 0 or 1 removes nothing. The input is not modified.
 */
export function removeSmallComponents(
  mask: Uint8Array,
  h: number,
  w: number,
  minArea: number,
  connectivity: Connectivity2D = 8,
): Uint8Array {
  return removeSmallSliceComponents(mask, 1, h, w, minArea, connectivity);
}

/** removeSmallComponents applied to each slice of a D×H×W volume. */
export function removeSmallSliceComponents(
  volume: Uint8Array,
  d: number,
  h: number,
  w: number,
  minArea: number,
  connectivity: Connectivity2D = 8,
): Uint8Array {
  checkMinArea(minArea);
  return componentsOfAtLeast(labelSliceComponents(volume, d, h, w, connectivity), minArea);
}

/** A 0/1 mask of the labelled components with at least `minArea` voxels. */
export function componentsOfAtLeast({ labels, sizes }: Components, minArea: number): Uint8Array {
  checkMinArea(minArea);
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label !== 0 && sizes[label]! >= minArea) out[i] = 1;
  }
  return out;
}

function checkMinArea(minArea: number): void {
  if (!Number.isInteger(minArea) || minArea < 0) {
    throw new RangeError(`minArea must be a non-negative integer, got ${minArea}`);
  }
}
