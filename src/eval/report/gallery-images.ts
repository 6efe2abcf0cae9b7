// PNG files for a gallery row from raw pixels: the MRI slice as stored (RGB = pre-contrast, FLAIR,
// post-contrast, or one grey channel) and the two masks in black and white.
import sharp from 'sharp';
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

/** Any non-zero voxel becomes white, so 0/1 model output and 0/255 ground truth look the same. */
function maskImage(mask: Uint8Array, width: number, height: number): RawImage {
  return { data: mask.map((v) => (v === 0 ? 0 : 255)), width, height, channels: 1 };
}

/** A gallery row for a slice record, from its MRI pixels and the two full-size masks. */
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
    trueMask: await encodePng(maskImage(trueMask, mri.width, mri.height)),
    predMask: await encodePng(maskImage(predMask, mri.width, mri.height)),
  };
}
