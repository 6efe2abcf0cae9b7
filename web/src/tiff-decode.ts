// TIFF slices decoded in the browser for in-browser inference (browsers do not decode TIFF). Uncompressed
// files only — every slice of the LGG dataset is one — with the server's rules (src/data/tiff.ts): 8-, 16-
// (scaled by the slice maximum) and 1-bit samples, grayscale or RGB, alpha dropped, WhiteIsZero inverted, and
// only the first width × height × samples bytes of the strips read (the dataset pads its last strip).
// Compressed TIFFs are refused with a message that points to the server backend.
import type { DecodedImage } from '../../src/data/image.ts';
import { multiPageProblem, tiffImageCount } from '../../src/data/tiff-pages.ts';

const MAX_SIDE = 16384;
const TYPE_SIZE: Record<number, number> = { 1: 1, 3: 2, 4: 4 };

export function isTiff(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) ||
      (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42))
  );
}

function readFirstDirectory(bytes: Uint8Array, name: string): Map<number, number[]> {
  const le = bytes[0] === 0x49;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const at = bytes.length >= 8 ? view.getUint32(4, le) : bytes.length;
  if (at + 2 > bytes.length) throw new Error(`${name}: truncated or corrupt TIFF (no image directory)`);
  const entries = view.getUint16(at, le);
  if (at + 2 + entries * 12 > bytes.length)
    throw new Error(`${name}: truncated or corrupt TIFF (directory runs past the end)`);
  const tags = new Map<number, number[]>();
  for (let e = 0; e < entries; e++) {
    const entry = at + 2 + e * 12;
    const id = view.getUint16(entry, le);
    const size = TYPE_SIZE[view.getUint16(entry + 2, le)];
    if (size === undefined) continue;
    const count = view.getUint32(entry + 4, le);
    const start = count * size <= 4 ? entry + 8 : view.getUint32(entry + 8, le);
    if (start + count * size > bytes.length)
      throw new Error(`${name}: truncated or corrupt TIFF (tag ${id} points past the end)`);
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      const o = start + i * size;
      values.push(size === 1 ? view.getUint8(o) : size === 2 ? view.getUint16(o, le) : view.getUint32(o, le));
    }
    tags.set(id, values);
  }
  return tags;
}

/** Decodes an uncompressed TIFF's first image; `name` names the file in errors. */
export function decodeTiff(bytes: Uint8Array, name: string): DecodedImage {
  if (!isTiff(bytes)) throw new Error(`${name}: not a TIFF`);
  const tags = readFirstDirectory(bytes, name);
  const images = tiffImageCount(bytes);
  if (images > 1) throw new Error(`${name}: ${multiPageProblem(images)}`);
  const first = (id: number, fallback?: number) => tags.get(id)?.[0] ?? fallback;
  const width = first(256);
  const height = first(257);
  if (!width || !height) throw new Error(`${name}: corrupt TIFF (no width/height)`);
  if (width > MAX_SIDE || height > MAX_SIDE)
    throw new Error(`${name}: ${width}×${height} is larger than ${MAX_SIDE} pixels a side`);
  const bits = first(258, 1)!;
  const samples = first(277, 1)!;
  const compression = first(259, 1)!;
  const photometric = first(262, 1)!;
  if (compression !== 1) {
    throw new Error(
      `${name}: compressed TIFF (compression ${compression}) cannot be decoded in the browser; ` +
        'run the models on the server for this file',
    );
  }
  if (bits !== 1 && bits !== 8 && bits !== 16) throw new Error(`${name}: ${bits}-bit TIFF is not supported`);
  if ((first(339, 1) ?? 1) !== 1)
    throw new Error(`${name}: only unsigned-integer TIFF samples are supported`);
  if ((first(284, 1) ?? 1) !== 1) throw new Error(`${name}: planar (non-interleaved) TIFF is not supported`);
  if (photometric === 3) throw new Error(`${name}: palette TIFF is not supported`);
  if (samples < 1 || samples > 4) throw new Error(`${name}: ${samples} samples per pixel`);
  const offsets = tags.get(273) ?? tags.get(324);
  const counts = tags.get(279) ?? tags.get(325);
  if (!offsets || offsets.length === 0) throw new Error(`${name}: TIFF has no strip offsets`);
  const rowBytes = Math.ceil((width * samples * bits) / 8);
  const size = rowBytes * height;
  const raw = new Uint8Array(size);
  let filled = 0;
  for (let i = 0; i < offsets.length && filled < size; i++) {
    const count = Math.min(counts?.[i] ?? size - filled, size - filled);
    const offset = offsets[i]!;
    if (offset + count > bytes.length)
      throw new Error(`${name}: truncated TIFF (strip ${i + 1} of ${offsets.length} runs past the end)`);
    raw.set(bytes.subarray(offset, offset + count), filled);
    filled += count;
  }
  if (filled < size) throw new Error(`${name}: truncated TIFF (${filled} of ${size} pixel bytes)`);
  const n = width * height * samples;
  let samples8: Uint8Array;
  if (bits === 8) samples8 = raw;
  else if (bits === 1) {
    samples8 = new Uint8Array(n);
    for (let y = 0; y < height; y++)
      for (let i = 0; i < width * samples; i++)
        samples8[y * width * samples + i] = ((raw[y * rowBytes + (i >> 3)]! >> (7 - (i & 7))) & 1) * 255;
  } else {
    // 16-bit, in the file's byte order, scaled so that the slice maximum becomes 255.
    const le = bytes[0] === 0x49;
    const values = new Uint16Array(n);
    let max = 0;
    for (let i = 0; i < n; i++) {
      const v = le ? raw[2 * i]! | (raw[2 * i + 1]! << 8) : (raw[2 * i]! << 8) | raw[2 * i + 1]!;
      values[i] = v;
      if (v > max) max = v;
    }
    samples8 = new Uint8Array(n);
    if (max > 0) for (let i = 0; i < n; i++) samples8[i] = Math.round((values[i]! * 255) / max);
  }
  if (photometric === 0) samples8 = samples8.map((v) => 255 - v);
  if (samples === 1 || samples === 3)
    return { width, height, channels: samples, data: samples8, sourceBits: bits };
  const keep = samples === 2 ? 1 : 3;
  const pixels = width * height;
  const data = new Uint8Array(pixels * keep);
  for (let i = 0; i < pixels; i++)
    for (let k = 0; k < keep; k++) data[i * keep + k] = samples8[i * samples + k]!;
  return { width, height, channels: keep, data, sourceBits: bits };
}
