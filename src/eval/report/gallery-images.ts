// PNG files for a gallery row from raw pixels: the MRI slice as stored (RGB = pre-contrast, FLAIR,
// post-contrast, or one grey channel), and the same slice with the true mask drawn over it in green and with the
// predicted one in red (filled faintly, outlined solid, as predict's overlays).
import sharp from 'sharp';
import { overlaySlice } from '../../data/overlay-grid.ts';
import { dice } from '../../metrics/segmentation.ts';
import type { SliceRecord } from '../slices.ts';
import type { GalleryItem } from './html.ts';

export interface RawImage {
  /** Row-major, interleaved channels, width * height * channels bytes. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

async function encodePng(image: RawImage): Promise<Uint8Array> {
  const { data, width, height, channels } = image;
  if (data.length !== width * height * channels) {
    throw new RangeError(`image has ${data.length} bytes, expected ${width}x${height}x${channels}`);
  }
  const png = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    raw: { width, height, channels },
  })
    .png()
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

export const TRUTH_COLOUR: [number, number, number] = [40, 220, 40];
export const PREDICTION_COLOUR: [number, number, number] = [255, 40, 40];

/** The MRI as RGB with `mask` (0/1 or 0/255, any non-zero is tumour) drawn over it in `colour`. */
function overlayImage(mri: RawImage, mask: Uint8Array, colour: [number, number, number]): RawImage {
  const { width, height } = mri;
  if (mask.length !== width * height) {
    throw new RangeError(`mask has ${mask.length} pixels, expected ${width}x${height}`);
  }
  const rgb =
    mri.channels === 3 ? mri.data : new Uint8Array(width * height * 3).map((_, i) => mri.data[(i / 3) | 0]!);
  return { data: overlaySlice(rgb, mask, width, height, { colour }), width, height, channels: 3 };
}

/** A gallery row for a slice record, from its MRI pixels and the two full-size masks drawn over it. */
export async function galleryItem(
  kind: GalleryItem['kind'],
  record: SliceRecord,
  mri: RawImage,
  trueMask: Uint8Array,
  predMask: Uint8Array,
): Promise<GalleryItem> {
  const d = dice(record.endToEnd);
  return {
    kind,
    patient: record.patient,
    slice: record.slice,
    dice: Number.isNaN(d) ? null : d,
    mri: await encodePng(mri),
    trueMask: await encodePng(overlayImage(mri, trueMask, TRUTH_COLOUR)),
    predMask: await encodePng(overlayImage(mri, predMask, PREDICTION_COLOUR)),
  };
}
