// Decoding slice TIFFs with utif2: uncompressed, LZW and deflate; 1-, 8- and 16-bit; grayscale and RGB(A).
// The LGG dataset's files pad the last strip's byte count to a full strip, so only the first
// width × height × channels bytes are image, and a file shorter than its strips say is truncated. Only the first
// directory is read, and its sizes are checked before any pixel is decoded: a small file can declare gigabytes.
// Bytes in, pixels out, nothing of Node's: the viewer decodes its TIFFs with this same file (read-image.ts reads
// them from disk).
import { Inflate } from 'fflate';
import UTIF from 'utif2';
import { ImageDecodeError, ImageTooLargeError, UnsupportedImageError } from './errors.ts';
import { checkSlicePixels, type DecodedImage } from './image.ts';
import { multiPageProblem, tiffImageCount } from './tiff-pages.ts';

/** Larger is not an MRI slice (and a corrupt header could ask for gigabytes). */
const MAX_SIDE = 16384;

/** Compression codes utif2 decodes that we accept (1 none, 5 LZW, 8/32946 deflate, 32773 PackBits). */
const SUPPORTED_COMPRESSION = new Set([1, 5, 8, 32946, 32773]);

export function isTiff(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) ||
      (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42))
  );
}

/** The first directory's numeric tags (BYTE, SHORT, LONG values), by tag id. */
type Tags = Map<number, number[]>;

const TYPE_SIZE: Record<number, number> = { 1: 1, 3: 2, 4: 4 };

/**
 * Reads the first image directory's numeric tags. utif2's own parser takes ~0.6 ms a file (it reads every tag
 * of every directory), which is most of decoding a dataset of small uncompressed slices; this takes microseconds.
 */
function readFirstDirectory(bytes: Uint8Array, path: string): Tags {
  const le = bytes[0] === 0x49;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const at = bytes.length >= 8 ? view.getUint32(4, le) : bytes.length;
  if (at + 2 > bytes.length) {
    throw new ImageDecodeError(
      path,
      `truncated or corrupt TIFF: its directory starts at byte ${at} but the file has ${bytes.length}`,
    );
  }
  const entries = view.getUint16(at, le);
  if (at + 2 + entries * 12 > bytes.length) {
    throw new ImageDecodeError(
      path,
      `truncated or corrupt TIFF: ${entries} directory entries run past the end`,
    );
  }
  const tags: Tags = new Map();
  for (let e = 0; e < entries; e++) {
    const entry = at + 2 + e * 12;
    const id = view.getUint16(entry, le);
    const size = TYPE_SIZE[view.getUint16(entry + 2, le)];
    if (size === undefined) continue; // ASCII, RATIONAL, ...: nothing the decoder needs
    const count = view.getUint32(entry + 4, le);
    const start = count * size <= 4 ? entry + 8 : view.getUint32(entry + 8, le);
    if (start + count * size > bytes.length) {
      throw new ImageDecodeError(
        path,
        `truncated or corrupt TIFF: tag ${id} points past the end of the file`,
      );
    }
    const values: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const o = start + i * size;
      values[i] = size === 1 ? view.getUint8(o) : size === 2 ? view.getUint16(o, le) : view.getUint32(o, le);
    }
    tags.set(id, values);
  }
  return tags;
}

function tag(tags: Tags, id: number): number[] | undefined {
  return tags.get(id);
}

/**
 * Decodes TIFF bytes; `path` only names the file in errors. `scratch`, when given and large enough, receives
 * uncompressed 8-bit pixels (the result then views it, valid until the next call that reuses it): decoding
 * thousands of slices into fresh buffers costs more in page faults than in copying.
 */
export function decodeTiff(bytes: Uint8Array, path: string, scratch?: Uint8Array): DecodedImage {
  if (!isTiff(bytes)) throw new ImageDecodeError(path, 'not a TIFF (no II*/MM* header)');
  const ifd = readFirstDirectory(bytes, path);
  const images = tiffImageCount(bytes);
  if (images > 1) throw new UnsupportedImageError(path, multiPageProblem(images));
  const width = tag(ifd, 256)?.[0];
  const height = tag(ifd, 257)?.[0];
  if (!width || !height)
    throw new ImageDecodeError(path, 'corrupt TIFF: its first directory has no width/height');
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw new ImageTooLargeError(path, `${width}×${height} is larger than ${MAX_SIDE} pixels a side`);
  }
  checkSlicePixels(path, width, height);
  // utif2 allocates a whole tile before it decodes one.
  const tileWidth = tag(ifd, 322)?.[0];
  if (tileWidth !== undefined) checkSlicePixels(path, tileWidth, tag(ifd, 323)?.[0] ?? 0, 'a tile of');
  const bits = tag(ifd, 258)?.[0] ?? 1;
  const samples = tag(ifd, 277)?.[0] ?? 1;
  const compression = tag(ifd, 259)?.[0] ?? 1;
  const photometric = tag(ifd, 262)?.[0] ?? 1;
  const sampleFormat = tag(ifd, 339)?.[0] ?? 1;
  if (!SUPPORTED_COMPRESSION.has(compression)) {
    throw new UnsupportedImageError(
      path,
      `TIFF compression ${compression} is not supported (use none, LZW or deflate)`,
    );
  }
  if (bits !== 1 && bits !== 8 && bits !== 16)
    throw new UnsupportedImageError(path, `${bits}-bit TIFF is not supported`);
  if (sampleFormat !== 1)
    throw new UnsupportedImageError(path, 'only unsigned-integer TIFF samples are supported');
  if ((tag(ifd, 284)?.[0] ?? 1) !== 1)
    throw new UnsupportedImageError(path, 'planar (non-interleaved) TIFF is not supported');
  if (photometric === 3) throw new UnsupportedImageError(path, 'palette TIFF is not supported');
  if (samples < 1 || samples > 4) throw new UnsupportedImageError(path, `${samples} samples per pixel`);
  checkStripsPresent(ifd, bytes.length, width, height, samples, bits, compression, path);
  if (compression === 8 || compression === 32946)
    checkInflatedSizes(ifd, bytes, width, height, samples, bits, path);
  let raw: Uint8Array | undefined;
  if (compression === 1 && bits === 8) raw = copyStrips(ifd, bytes, width * height * samples, scratch);
  else raw = decodeWithUtif(bytes, ifd, path);
  const rowBytes = Math.ceil((width * samples * bits) / 8);
  if (!raw || raw.length < rowBytes * height) {
    throw new ImageDecodeError(
      path,
      `truncated TIFF (${raw?.length ?? 0} of ${rowBytes * height} pixel bytes)`,
    );
  }
  let samples8: Uint8Array;
  let note: string | undefined;
  if (bits === 8) samples8 = raw.subarray(0, width * height * samples);
  else if (bits === 1) samples8 = unpackBits(raw, width, height, samples);
  else {
    const scaled = scale16(raw, width * height * samples);
    samples8 = scaled.data;
    note = `16-bit samples scaled to 8 bits by the slice maximum (${scaled.max})`;
  }
  if (photometric === 0) samples8 = samples8.map((v) => 255 - v); // WhiteIsZero
  const image = dropAlpha(samples8, width, height, samples);
  return { width, height, ...image, sourceBits: bits, ...(note ? { note } : {}) };
}

/**
 * Compressed, 1-bit and 16-bit pixel data: utif2 does the decompression (LZW, deflate, PackBits). It gets the
 * directory read here, not its own UTIF.decode, which follows every next-directory link: a directory linking to
 * itself made it loop, growing until the process aborted.
 */
function decodeWithUtif(bytes: Uint8Array, tags: Tags, path: string): Uint8Array | undefined {
  // utif2 reads strips at offsets from the start of the buffer it is given: the file's bytes, from byte 0. (A
  // copy by the Uint8Array constructor: a Node Buffer's slice() is a view into the same pool.)
  const buffer = (bytes.byteOffset === 0 ? bytes.buffer : new Uint8Array(bytes).buffer) as ArrayBuffer;
  // decodeImage sets data, width and height itself.
  const ifd = Object.fromEntries([...tags].map(([id, values]) => [`t${id}`, values])) as unknown as UTIF.IFD;
  try {
    UTIF.decodeImage(buffer, ifd);
    return ifd.data;
  } catch (err) {
    throw new ImageDecodeError(path, `corrupt TIFF pixel data (${(err as Error).message})`, { cause: err });
  }
}

/**
 * Deflate inflates without bound: utif2 inflates a whole strip before it looks at its size, so a strip of a few
 * kilobytes could become gigabytes inside an image of allowed size. Each strip (or tile) is inflated here first
 * with a cap at the bytes it should hold; corrupt data is left to utif2, which says what is wrong.
 */
function checkInflatedSizes(
  ifd: Tags,
  bytes: Uint8Array,
  width: number,
  height: number,
  samples: number,
  bits: number,
  path: string,
): void {
  const tiled = tag(ifd, 322) !== undefined;
  const offsets = (tiled ? tag(ifd, 324) : (tag(ifd, 273) ?? tag(ifd, 324)))!;
  const counts = tiled ? tag(ifd, 325) : (tag(ifd, 279) ?? tag(ifd, 325));
  let capacity: number;
  if (tiled) {
    const tileWidth = tag(ifd, 322)![0] ?? 0;
    const tileHeight = tag(ifd, 323)?.[0] ?? 0;
    capacity = Math.ceil((tileWidth * samples * bits) / 8) * tileHeight;
  } else {
    const rows = Math.min(tag(ifd, 278)?.[0] ?? height, height);
    capacity = Math.ceil((width * samples * bits) / 8) * rows;
  }
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i]!;
    const count = counts?.[i] ?? 0;
    if (count < 6) continue;
    // As utif2 reads it: the zlib stream less its 2-byte header and 4-byte checksum.
    if (inflatesBeyond(bytes.subarray(offset + 2, offset + count - 4), Math.max(capacity, 1))) {
      throw new ImageDecodeError(
        path,
        `corrupt TIFF: deflate ${tiled ? 'tile' : 'strip'} ${i + 1} inflates to more than the ${capacity} bytes it should hold`,
      );
    }
  }
}

/** Input fed to the inflater at a time: deflate expands at most about 1,032×, so each step stays under 1 MB. */
const INFLATE_STEP = 1024;

/**
 * Whether raw deflate data inflates to more than `capacity` bytes, found without ever holding much more: the
 * data goes in small steps and stops at the first step past the cap. Corrupt data is not this check's business
 * (utif2 reports it).
 */
function inflatesBeyond(data: Uint8Array, capacity: number): boolean {
  let inflated = 0;
  const inflater = new Inflate((chunk) => {
    inflated += chunk.length;
  });
  try {
    for (let at = 0; at < data.length && inflated <= capacity; at += INFLATE_STEP) {
      inflater.push(data.subarray(at, at + INFLATE_STEP), at + INFLATE_STEP >= data.length);
    }
  } catch {
    // corrupt: left to utif2
  }
  return inflated > capacity;
}

/**
 * Uncompressed 8-bit strips (every LGG file) copied with native memcpy: utif2 copies them byte by byte in
 * JavaScript, which is most of the decode time of a dataset. Strip bounds were checked before.
 */
function copyStrips(ifd: Tags, bytes: Uint8Array, size: number, scratch?: Uint8Array): Uint8Array {
  const offsets = (tag(ifd, 273) ?? tag(ifd, 324))!;
  const counts = tag(ifd, 279) ?? tag(ifd, 325);
  const out = scratch && scratch.length >= size ? scratch.subarray(0, size) : new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < offsets.length && at < size; i++) {
    const count = Math.min(counts?.[i] ?? size - at, size - at);
    out.set(bytes.subarray(offsets[i]!, offsets[i]! + count), at);
    at += count;
  }
  return out;
}

/**
 * A truncated file still decodes in utif2 (missing strips come out black), so check that every strip the image
 * needs lies inside the file. For uncompressed strips only the bytes the image needs count: the dataset's last
 * strip claims a full strip's bytes but the image ends before.
 */
function checkStripsPresent(
  ifd: Tags,
  fileLength: number,
  width: number,
  height: number,
  samples: number,
  bits: number,
  compression: number,
  path: string,
): void {
  const offsets = tag(ifd, 273) ?? tag(ifd, 324);
  const counts = tag(ifd, 279) ?? tag(ifd, 325);
  if (!offsets || offsets.length === 0) throw new ImageDecodeError(path, 'TIFF has no strip offsets');
  const rowBytes = Math.ceil((width * samples * bits) / 8);
  let remaining = rowBytes * height;
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i]!;
    let count = counts?.[i] ?? remaining;
    if (compression === 1) count = Math.min(count, remaining);
    if (offset + count > fileLength) {
      throw new ImageDecodeError(
        path,
        `truncated TIFF: strip ${i + 1} of ${offsets.length} needs bytes ${offset}–${offset + count} but the file has ${fileLength}`,
      );
    }
    remaining -= count;
  }
  if (compression === 1 && remaining > 0) {
    throw new ImageDecodeError(
      path,
      `truncated TIFF: strips hold ${remaining} bytes fewer than the image needs`,
    );
  }
}

function unpackBits(raw: Uint8Array, width: number, height: number, samples: number): Uint8Array {
  const rowBytes = Math.ceil((width * samples) / 8);
  const out = new Uint8Array(width * height * samples);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width * samples; i++) {
      const bit = (raw[y * rowBytes + (i >> 3)]! >> (7 - (i & 7))) & 1;
      out[y * width * samples + i] = bit * 255;
    }
  }
  return out;
}

/** 16-bit samples (little-endian after utif2) to 8 bits, scaled so the slice maximum becomes 255. */
function scale16(raw: Uint8Array, count: number): { data: Uint8Array; max: number } {
  const values = new Uint16Array(count);
  let max = 0;
  for (let i = 0; i < count; i++) {
    const v = raw[2 * i]! | (raw[2 * i + 1]! << 8);
    values[i] = v;
    if (v > max) max = v;
  }
  const data = new Uint8Array(count);
  if (max > 0) for (let i = 0; i < count; i++) data[i] = Math.round((values[i]! * 255) / max);
  return { data, max };
}

/** 2 samples are gray + alpha, 4 are RGBA: keep the colour. */
function dropAlpha(
  data: Uint8Array,
  width: number,
  height: number,
  samples: number,
): { channels: 1 | 3; data: Uint8Array } {
  if (samples === 1 || samples === 3) return { channels: samples, data };
  const keep = samples === 2 ? 1 : 3;
  const n = width * height;
  const out = new Uint8Array(n * keep);
  for (let i = 0; i < n; i++) for (let k = 0; k < keep; k++) out[i * keep + k] = data[i * samples + k]!;
  return { channels: keep, data: out };
}
