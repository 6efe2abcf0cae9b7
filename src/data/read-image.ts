// Reading any slice file we accept: TIFF through utif2 (fast, synchronous), PNG and JPEG through sharp. The format
// is told from the file's first bytes, not its name, so a misnamed file still reads and a non-image is named.
// Every format's size is checked against MAX_SLICE_PIXELS from its header, before its pixels are decoded.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import sharp, { type Metadata } from 'sharp';
import { DataError, ImageDecodeError } from './errors.ts';
import { checkSlicePixels, type DecodedImage, MAX_SLICE_PIXELS } from './image.ts';
import { decodeTiff, isTiff } from './tiff.ts';

// Each slice is decoded once; libvips's operation cache would keep up to 50 MB of them alive in a long-running
// server after the request that sent them.
sharp.cache(false);

export type ImageFormat = 'tiff' | 'png' | 'jpeg';

export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (isTiff(bytes)) return 'tiff';
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DataError('not-found', path, `cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
}

/** Decodes image bytes of any accepted format; `path` only names the file in errors. */
export async function decodeImageBytes(bytes: Uint8Array, path: string): Promise<DecodedImage> {
  const format = sniffFormat(bytes);
  if (format === 'tiff') return decodeTiff(bytes, path);
  if (format === undefined) {
    const head = Buffer.from(bytes.subarray(0, 8)).toString('hex');
    throw new ImageDecodeError(
      path,
      bytes.length === 0
        ? 'empty file, not an image'
        : `not an image (TIFF, PNG or JPEG); it starts with 0x${head}`,
    );
  }
  let meta: Metadata;
  try {
    // The header only, without libvips's own pixel limit, so that the check below can say what is wrong.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageDecodeError(path, `corrupt ${format.toUpperCase()} (${(err as Error).message})`, {
      cause: err,
    });
  }
  checkSlicePixels(path, meta.width ?? 0, meta.height ?? 0);
  try {
    // libvips's own limit as well, in case its decoder disagrees with the header it reported.
    const input = sharp(bytes, { failOn: 'truncated', limitInputPixels: MAX_SLICE_PIXELS });
    const { data, info } = await input.raw().toBuffer({ resolveWithObject: true });
    const samples = info.channels;
    const keep = samples <= 2 ? 1 : 3;
    let out: Uint8Array = new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (samples !== keep) {
      const n = info.width * info.height;
      const dropped = new Uint8Array(n * keep);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < keep; k++) dropped[i * keep + k] = out[i * samples + k]!;
      out = dropped;
    }
    const sourceBits = meta.depth === 'ushort' ? 16 : 8;
    return {
      width: info.width,
      height: info.height,
      channels: keep,
      data: out,
      sourceBits,
      ...(sourceBits === 16 ? { note: '16-bit samples scaled to 8 bits by sharp (full range)' } : {}),
    };
  } catch (err) {
    throw new ImageDecodeError(path, `corrupt ${format.toUpperCase()} (${(err as Error).message})`, {
      cause: err,
    });
  }
}

/** Reads and decodes one TIFF file synchronously (its one image; thumbnails are ignored). */
export function readTiff(path: string): DecodedImage {
  return decodeTiff(readBytes(path), path);
}

/** Reads and decodes one slice or mask file. */
export async function readImage(path: string): Promise<DecodedImage> {
  return decodeImageBytes(readBytes(path), path);
}

/**
 * Reads files into reused buffers and decodes TIFFs synchronously (PNG/JPEG go through sharp). For loading a
 * whole dataset: every fresh 200 KB buffer is a fresh mmap, and its page faults cost more than the decoding.
 * What `decode` returns views the reader's buffers: copy it out before the next call.
 */
export class ReusingImageReader {
  #file = Buffer.alloc(256 * 1024);
  #pixels = [new Uint8Array(256 * 256 * 3), new Uint8Array(256 * 256 * 3)];

  /** `slot` 0 or 1: two images (slice and mask) can be alive at once. */
  async decode(path: string, slot: 0 | 1): Promise<DecodedImage> {
    const bytes = this.#read(path);
    if (!isTiff(bytes)) return decodeImageBytes(Buffer.from(bytes), path);
    let pixels = this.#pixels[slot]!;
    const image = decodeTiff(bytes, path, pixels);
    if (image.data.buffer !== pixels.buffer && image.data.length > pixels.length) {
      // A larger slice than any before: grow the buffer for the next ones.
      pixels = new Uint8Array(image.data.length);
      this.#pixels[slot] = pixels;
    }
    return image;
  }

  #read(path: string): Uint8Array {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const size = fstatSync(fd).size;
      if (size > this.#file.length) this.#file = Buffer.alloc(size);
      let at = 0;
      while (at < size) {
        const n = readSync(fd, this.#file, at, size - at, at);
        if (n === 0) break;
        at += n;
      }
      return this.#file.subarray(0, at);
    } catch (err) {
      throw new DataError('not-found', path, `cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
