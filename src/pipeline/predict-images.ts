// The pictures of a prediction, as PNG bytes (for files and for the server): the mask alone, and the MRI slice
// with the tumour filled in semi-transparent red and outlined in solid red (the overlay drawing of the
// dataset grid, overlay-grid.ts, on a single slice).
import sharp from 'sharp';
import { cacheFromImages } from '../data/cache-from-images.ts';
import type { DecodedImage } from '../data/image.ts';
import { type OverlayOptions, overlayGrid } from '../data/overlay-grid.ts';

function checkMaskSize(mask: Uint8Array, width: number, height: number): void {
  if (mask.length !== width * height) {
    throw new RangeError(`mask has ${mask.length} pixels, not ${width}×${height}`);
  }
}

/** A one-channel PNG of a 0/1 mask: 255 where there is tumour, 0 elsewhere. */
export async function maskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  checkMaskSize(mask, width, height);
  // A loop, not Uint8Array.from(mask, fn), which builds a JS array of every pixel on the way.
  const pixels = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) pixels[i] = 255;
  // Without 'b-w', sharp writes one-channel raw input as an RGB PNG.
  return sharp(pixels, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/** The slice in RGB (grayscale repeated) with `mask` (0/1 at the image's size) drawn over it, as a PNG. */
export async function overlayPng(
  image: DecodedImage,
  mask: Uint8Array,
  options: Pick<OverlayOptions, 'colour' | 'alpha'> = {},
): Promise<Buffer> {
  const { width, height } = image;
  checkMaskSize(mask, width, height);
  // A one-slice cache at the image's own size: no resizing, and overlayGrid draws exactly as for the dataset.
  const cache = {
    ...cacheFromImages([{ name: '', patient: '', sliceNumber: 0, image }], width, height),
    masks: mask,
  };
  const drawn = overlayGrid(cache, [0], { ...options, columns: 1, gap: 0 });
  return sharp(drawn.data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
