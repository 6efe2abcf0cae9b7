// MRI values to the dataset's 8-bit scale. The LGG TIFFs hold each sequence of a patient scaled linearly so that
// its volume's minimum is 0 and its maximum 255: measured over the dataset, every channel of every patient peaks
// at (or, after the dataset's resampling, a little below) 255 with fewer than 0.001 % of voxels there, and
// background is 0. So a sequence is mapped the same way, min → 0 and max → 255 over its whole volume, rounded.
// A volume stored as 8-bit samples is taken as already on that scale (a stack of the dataset's own slices is).

export interface EightBitChannel {
  data: Uint8Array;
  /** The values mapped to 0 and 255 (both 0 for an 8-bit channel taken as is). */
  min: number;
  max: number;
}

/**
 * Channel `channel` of `data` (`voxels` values each) on the 0–255 scale. Non-finite values count as the minimum;
 * a constant channel maps to 0.
 */
export function toEightBit(
  data: Float32Array,
  voxels: number,
  channel: number,
  eightBit: boolean,
): EightBitChannel {
  const values = data.subarray(channel * voxels, (channel + 1) * voxels);
  const out = new Uint8Array(voxels);
  if (eightBit) {
    for (let i = 0; i < voxels; i++) out[i] = Math.min(255, Math.max(0, Math.round(values[i]!) || 0));
    return { data: out, min: 0, max: 0 };
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < voxels; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min))
    return { data: out, min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0 };
  const scale = 255 / (max - min);
  for (let i = 0; i < voxels; i++) {
    const v = values[i]!;
    out[i] = Number.isFinite(v) ? Math.round((v - min) * scale) : 0;
  }
  return { data: out, min, max };
}
