// The decoded-image type every reader returns, the pixel budget of one slice, and small pure helpers.
import { ImageTooLargeError, MaskValuesError } from './errors.ts';

export interface DecodedImage {
  width: number;
  height: number;
  /** Samples per pixel after decoding: 1 (grayscale) or 3 (RGB). Alpha is dropped. */
  channels: 1 | 3;
  /** Interleaved HWC bytes, exactly width × height × channels of them. */
  data: Uint8Array;
  /** Bits per sample in the file (16-bit files are scaled to 8 bits; see `note`). */
  sourceBits: number;
  /** Set when decoding changed the values, e.g. how 16-bit samples were scaled to 8 bits. */
  note?: string;
}

/**
 * The most pixels one slice may have, checked from a file's header before any pixel is decoded. LGG slices are
 * 256×256 and clinical MRI slices at most 1024×1024; 2048×2048 leaves room and decodes to at most 12 MB of RGB
 * (24 MB from 16-bit samples). A 783 KB deflate TIFF declaring 16384×16384 RGB otherwise cost 2.7 GB to read.
 */
export const MAX_SLICE_PIXELS = 2048 * 2048;

/** Throws ImageTooLargeError naming `path` when width × height is over MAX_SLICE_PIXELS. */
export function checkSlicePixels(path: string, width: number, height: number, what = 'an image of'): void {
  if (width * height > MAX_SLICE_PIXELS) {
    throw new ImageTooLargeError(
      path,
      `${what} ${width}×${height} is ${formatPixels(width * height)} pixels, more than the ` +
        `${formatPixels(MAX_SLICE_PIXELS)} (2048×2048) one slice may have`,
    );
  }
}

/** A pixel count as people read it: 4.2 M, 268.4 M. */
export function formatPixels(n: number): string {
  if (n >= 1e9) return `${+(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** The same pixels with 3 channels: grayscale is repeated into R, G and B. */
export function toRgb(image: DecodedImage): DecodedImage {
  if (image.channels === 3) return image;
  const n = image.width * image.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const v = image.data[i]!;
    out[3 * i] = v;
    out[3 * i + 1] = v;
    out[3 * i + 2] = v;
  }
  return { ...image, channels: 3, data: out };
}

/**
 * A mask as one byte per pixel, 0 or 1. Masks come as 0/255 or 0/1; any other value (a label map, greys, a JPEG's
 * noise) throws a MaskValuesError naming `file`. Only the first channel counts.
 */
export function binariseMask(mask: DecodedImage, file: string): Uint8Array {
  const out = new Uint8Array(mask.width * mask.height);
  binariseMaskInto(mask, out, file);
  return out;
}

/**
 * binariseMask writing into `out` (width × height bytes); returns the number of mask pixels. One-channel masks
 * are done four pixels at a time: decoding a dataset's masks is otherwise a second of byte loops.
 */
export function binariseMaskInto(mask: DecodedImage, out: Uint8Array, file: string): number {
  const n = mask.width * mask.height;
  const c = mask.channels;
  const data = mask.data;
  if (c === 1 && n % 4 === 0 && data.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) {
    const words = new Uint32Array(data.buffer, data.byteOffset, n / 4);
    const outWords = new Uint32Array(out.buffer, out.byteOffset, n / 4);
    let any = 0;
    for (let i = 0; i < words.length; i++) any |= words[i]!;
    // Some byte above 1 ⇔ some byte has a bit other than its lowest set: then every byte must be 0 or 255,
    // that is its top bit repeated eight times.
    const wide = (any & 0xfefefefe) !== 0;
    let count = 0;
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      const bits = wide ? (word >>> 7) & 0x01010101 : word;
      if (wide && Math.imul(bits, 0xff) >>> 0 !== word) throw new MaskValuesError(file, distinctValues(mask));
      outWords[i] = bits;
      count += Math.imul(bits, 0x01010101) >>> 24; // sum of the four 0/1 bytes
    }
    return count;
  }
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, data[i * c]!);
  const top = max > 1 ? 255 : 1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i * c]!;
    if (v !== 0 && v !== top) throw new MaskValuesError(file, distinctValues(mask));
    out[i] = v === 0 ? 0 : 1;
    count += out[i]!;
  }
  return count;
}

/** The distinct values of a mask's first channel, ascending. */
function distinctValues(mask: DecodedImage): number[] {
  const seen = new Uint8Array(256);
  for (let i = 0; i < mask.data.length; i += mask.channels) seen[mask.data[i]!] = 1;
  return [...seen.keys()].filter((v) => seen[v]);
}

/**
 * Bilinear resize of interleaved HWC samples with half-pixel centres (as torch's align_corners=false), for slices
 * whose size differs from the model's input; bytes are rounded, floats (probability maps) kept as they come.
 */
export function resizeBilinear<T extends Uint8Array | Float32Array>(
  data: T,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): T {
  if (width === outWidth && height === outHeight) return data;
  const bytes = data instanceof Uint8Array;
  const out = (
    bytes
      ? new Uint8Array(outWidth * outHeight * channels)
      : new Float32Array(outWidth * outHeight * channels)
  ) as T;
  const sx = width / outWidth;
  const sy = height / outHeight;
  for (let y = 0; y < outHeight; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let x = 0; x < outWidth; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const wx = fx - x0;
      for (let k = 0; k < channels; k++) {
        const a = data[(y0 * width + x0) * channels + k]!;
        const b = data[(y0 * width + x1) * channels + k]!;
        const c = data[(y1 * width + x0) * channels + k]!;
        const d = data[(y1 * width + x1) * channels + k]!;
        const top = a + (b - a) * wx;
        const bottom = c + (d - c) * wx;
        const value = top + (bottom - top) * wy;
        out[(y * outWidth + x) * channels + k] = bytes ? Math.round(value) : value;
      }
    }
  }
  return out;
}

/** Nearest-neighbour resize of a one-byte-per-pixel mask (keeps it binary). */
export function resizeNearest(
  mask: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  if (width === outWidth && height === outHeight) return mask;
  const out = new Uint8Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(Math.floor(((y + 0.5) * height) / outHeight), height - 1);
    for (let x = 0; x < outWidth; x++) {
      const sx = Math.min(Math.floor(((x + 0.5) * width) / outWidth), width - 1);
      out[y * outWidth + x] = mask[sy * width + sx]!;
    }
  }
  return out;
}
