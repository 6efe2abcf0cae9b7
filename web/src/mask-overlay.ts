// A binary mask turned into the RGBA pixels drawn over the MRI: the whole tumour (fill), only its border
// (outline), or nothing. Opacity is not baked in: the overlay canvas's CSS opacity carries it, so moving the
// slider does not redraw.

export type OverlayMode = 'fill' | 'outline' | 'off';

export type Rgb = readonly [number, number, number];

/** The colour of predicted tumour, in the slice view and in the planes and 3-D view alike. */
export const TUMOUR_RGB: Rgb = [255, 64, 32];

/** Tumour pixels (value ≥ 128 in a 0/255 mask) from RGBA image data, reading its red channel. */
export function maskFromRgba(rgba: ArrayLike<number>, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = (rgba[i * 4] ?? 0) >= 128 ? 1 : 0;
  return mask;
}

/**
 * Border pixels of a binary mask: tumour pixels with a 4-neighbour outside the tumour. The image edge counts
 * as outside, so a tumour touching it is closed there too.
 */
export function outlineOf(mask: ArrayLike<number>, width: number, height: number): Uint8Array {
  const outline = new Uint8Array(width * height);
  const inside = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < width && y < height && (mask[y * width + x] ?? 0) > 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!inside(x, y)) continue;
      const border = !inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1);
      if (border) outline[y * width + x] = 1;
    }
  }
  return outline;
}

export function countPixels(mask: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if ((mask[i] ?? 0) > 0) n++;
  return n;
}

/** RGBA pixels (width × height × 4) for the overlay canvas: `colour` where shown, transparent elsewhere. */
export function overlayPixels(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  mode: OverlayMode,
  colour: Rgb,
): Uint8ClampedArray<ArrayBuffer> {
  const rgba = new Uint8ClampedArray(width * height * 4);
  if (mode === 'off') return rgba;
  const shown = mode === 'outline' ? outlineOf(mask, width, height) : mask;
  for (let i = 0; i < width * height; i++) {
    if ((shown[i] ?? 0) === 0) continue;
    rgba[i * 4] = colour[0];
    rgba[i * 4 + 1] = colour[1];
    rgba[i * 4 + 2] = colour[2];
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}
