// 3-D connected components of a patient volume (its slices in order, D×H×W), and keeping the largest one, as
// Buda et al. 2019 do before scoring (inference.py: medpy.filter.binary.largest_connected_component).
//
// Default 6-connectivity (voxels sharing a face), because that is what Buda et al.'s code does: medpy calls
// scipy.ndimage.label without a structure, i.e. connectivity 1. (scikit-image's measure.label would default to
// full 26-connectivity, but Buda et al. do not use it.) 26 is available for those who want corner contacts
// across slices to join components.
import { type Components, labelComponents, neighbourhood } from './label-components.ts';

export type Connectivity3D = 6 | 26;

const NEIGHBOURS_3D: Record<Connectivity3D, ReturnType<typeof neighbourhood>> = {
  6: neighbourhood({ z: true, y: true, x: true }, 1),
  26: neighbourhood({ z: true, y: true, x: true }, 3),
};

/** Components of a D×H×W volume (any non-zero value is foreground), numbered in raster order (z, y, x). */
export function labelComponents3D(
  volume: Uint8Array,
  d: number,
  h: number,
  w: number,
  connectivity: Connectivity3D = 6,
): Components {
  return labelComponents(volume, d, h, w, NEIGHBOURS_3D[connectivity]);
}

/**
 * A 0/1 copy of the volume holding only its largest 3-D component. Among components of equal size the one whose
 * first voxel comes first in raster order (lowest slice, then row, then column) is kept, exactly as numpy.argmax
 * over scipy's labels picks it in Buda et al.'s code. An empty volume stays empty. The input is not modified.
 */
export function keepLargest3DComponent(
  volume: Uint8Array,
  d: number,
  h: number,
  w: number,
  connectivity: Connectivity3D = 6,
): Uint8Array {
  const { labels, sizes, count } = labelComponents3D(volume, d, h, w, connectivity);
  let largest = 0;
  for (let k = 1; k <= count; k++) if (sizes[k]! > sizes[largest]!) largest = k;
  const out = new Uint8Array(labels.length);
  if (largest === 0) return out;
  for (let i = 0; i < labels.length; i++) if (labels[i] === largest) out[i] = 1;
  return out;
}
