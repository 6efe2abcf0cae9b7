// The post-processing of one patient volume, in a fixed order: threshold, then removal of small 2-D components
// in each slice, then the largest 3-D component. Small specks go first so that they cannot bridge two blobs into
// one 3-D component. TTA is not here: it changes the probabilities, so it happens at inference (tta.ts).
import { removeSmallSliceComponents } from './components-2d.ts';
import { keepLargest3DComponent } from './components-3d.ts';
import type { PostprocessConfig } from './config.ts';
import { checkGrid } from './label-components.ts';
import { threshold } from './threshold.ts';

/** A 0/1 mask (D×H×W) from a patient's probability maps (D×H×W, slices in order). Pure. */
export function applyPostprocess(
  volumeProbs: Float32Array,
  d: number,
  h: number,
  w: number,
  config: PostprocessConfig,
): Uint8Array {
  checkGrid(volumeProbs, d, h, w);
  return postprocessMask(threshold(volumeProbs, config.threshold), d, h, w, config);
}

/** The steps after the threshold, on a binary volume (D×H×W, any non-zero is tumour). Returns a new 0/1 array. */
export function postprocessMask(
  mask: Uint8Array,
  d: number,
  h: number,
  w: number,
  config: Pick<PostprocessConfig, 'minComponentArea' | 'largest3DComponent'>,
): Uint8Array {
  checkGrid(mask, d, h, w);
  let out: Uint8Array =
    config.minComponentArea > 0
      ? removeSmallSliceComponents(mask, d, h, w, config.minComponentArea)
      : binaryCopy(mask);
  if (config.largest3DComponent) out = keepLargest3DComponent(out, d, h, w);
  return out;
}

/**
 * A 0/1 copy by a plain loop: Uint8Array.from(mask, fn) gathers every value into a JS array first (about 24
 * bytes of heap a voxel), which aborts the process on a volume of some 10^8 voxels.
 */
function binaryCopy(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) out[i] = 1;
  return out;
}
