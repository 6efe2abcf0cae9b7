// Files the data tests make for themselves: hand-built TIFFs (every compression, bit depth and strip layout the
// reader claims to handle), PNGs and JPEGs through sharp, and small kaggle_3m-shaped folders.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedLgg = resolve(repoRoot, '..', 'shared', 'lgg');

/** A fresh temporary folder, removed when the test ends. */
export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tumorscope-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TiffSpec {
  width: number;
  height: number;
  channels: number;
  bits?: 1 | 8 | 16;
  /** Samples, interleaved; for 16-bit a Uint16Array. For 1-bit, rows packed MSB first. */
  samples: Uint8Array | Uint16Array;
  compression?: 'none' | 'deflate';
  rowsPerStrip?: number;
  /** Make the last strip's byte count (and bytes) a full strip, as the LGG dataset does. */
  padLastStrip?: boolean;
  photometric?: number;
  bigEndian?: boolean;
  /**
   * More images after the first, by NewSubfileType (0 a full image, 1 a thumbnail): directories that share the
   * first one's pixels, as a stack of slices or a file with a preview would have.
   */
  moreImages?: number[];
}

/** A TIFF built byte by byte: pixel strips first, then the IFD and its arrays. */
export function encodeTiff(spec: TiffSpec): Uint8Array {
  const bits = spec.bits ?? 8;
  const { width, height, channels } = spec;
  const rowBytes = Math.ceil((width * channels * bits) / 8);
  let raw: Uint8Array;
  if (bits === 16) {
    raw = new Uint8Array(spec.samples.length * 2);
    const view = new DataView(raw.buffer);
    spec.samples.forEach((v, i) => {
      view.setUint16(2 * i, v, !spec.bigEndian);
    });
  } else raw = spec.samples as Uint8Array;
  const rps = spec.rowsPerStrip ?? height;
  const strips: Uint8Array[] = [];
  for (let y = 0; y < height; y += rps) {
    let strip = raw.subarray(y * rowBytes, Math.min(height, y + rps) * rowBytes);
    if (spec.padLastStrip && strip.length < rps * rowBytes) {
      const padded = new Uint8Array(rps * rowBytes);
      padded.set(strip);
      strip = padded;
    }
    strips.push(spec.compression === 'deflate' ? deflateSync(strip) : strip);
  }
  const dataBytes = strips.reduce((a, s) => a + s.length, 0);
  const stripOffsets: number[] = [];
  let at = 8;
  for (const s of strips) {
    stripOffsets.push(at);
    at += s.length;
  }
  if (at % 2) at++;
  const tags: [number, number, number[]][] = [
    [256, 4, [width]],
    [257, 4, [height]],
    [258, 3, new Array(channels).fill(bits)],
    [259, 3, [spec.compression === 'deflate' ? 8 : 1]],
    [262, 3, [spec.photometric ?? (channels >= 3 ? 2 : 1)]],
    [273, 4, stripOffsets],
    [277, 3, [channels]],
    [278, 4, [rps]],
    [279, 4, strips.map((s) => s.length)],
    [284, 3, [1]],
  ];
  const ifdOffset = at;
  const ifdSize = 2 + tags.length * 12 + 4;
  let extra = ifdOffset + ifdSize;
  const total =
    extra + tags.reduce((a, [, type, v]) => a + (v.length * (type === 3 ? 2 : 4) > 4 ? v.length * 4 : 0), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const le = !spec.bigEndian;
  out.set(le ? [0x49, 0x49] : [0x4d, 0x4d], 0);
  view.setUint16(2, 42, le);
  view.setUint32(4, ifdOffset, le);
  let p = 8;
  for (const s of strips) {
    out.set(s, p);
    p += s.length;
  }
  void dataBytes;
  view.setUint16(ifdOffset, tags.length, le);
  tags.forEach(([id, type, values], i) => {
    const e = ifdOffset + 2 + i * 12;
    view.setUint16(e, id, le);
    view.setUint16(e + 2, type, le);
    view.setUint32(e + 4, values.length, le);
    const size = values.length * (type === 3 ? 2 : 4);
    let target = e + 8;
    if (size > 4) {
      view.setUint32(e + 8, extra, le);
      target = extra;
      extra += values.length * 4;
    }
    values.forEach((v, k) => {
      if (type === 3) view.setUint16(target + 2 * k, v, le);
      else view.setUint32(target + 4 * k, v, le);
    });
  });
  return spec.moreImages?.length ? withMoreImages(out, ifdOffset, tags.length, spec.moreImages, le) : out;
}

function withMoreImages(
  tiff: Uint8Array,
  ifdOffset: number,
  entries: number,
  subfileTypes: number[],
  le: boolean,
): Uint8Array {
  const size = 2 + (entries + 1) * 12 + 4;
  const start = tiff.length + (tiff.length % 2);
  const out = new Uint8Array(start + size * subfileTypes.length);
  out.set(tiff);
  const view = new DataView(out.buffer);
  const firstEntries = tiff.subarray(ifdOffset + 2, ifdOffset + 2 + entries * 12);
  let next = ifdOffset + 2 + entries * 12;
  subfileTypes.forEach((subfileType, k) => {
    const at = start + k * size;
    view.setUint32(next, at, le);
    view.setUint16(at, entries + 1, le);
    view.setUint16(at + 2, 254, le); // NewSubfileType first: tags go in ascending order
    view.setUint16(at + 4, 4, le);
    view.setUint32(at + 6, 1, le);
    view.setUint32(at + 10, subfileType, le);
    out.set(firstEntries, at + 14);
    next = at + 2 + (entries + 1) * 12;
  });
  return out;
}

export interface BombSpec {
  width: number;
  height: number;
  channels: number;
  bits?: 8 | 16;
  /** Rows per strip (default 16), or [width, height] of tiles instead of strips. */
  rowsPerStrip?: number;
  tile?: [number, number];
  /** Bytes every strip (or tile) inflates to; default exactly what one should hold. */
  inflatesTo?: number;
}

/**
 * A deflate TIFF that declares far more than its bytes: one compressed strip of zeros that every strip (or
 * tile) entry points at, so that a 16384×16384 image is a few kilobytes. Decoding it would cost the full size.
 */
export function tiffBomb(spec: BombSpec): Uint8Array {
  const bits = spec.bits ?? 8;
  const { width, height, channels } = spec;
  const [tileWidth, tileHeight] = spec.tile ?? [width, spec.rowsPerStrip ?? 16];
  const pieceBytes = Math.ceil((tileWidth * channels * bits) / 8) * tileHeight;
  const piece = deflateSync(new Uint8Array(spec.inflatesTo ?? pieceBytes));
  const pieces = spec.tile
    ? Math.ceil(width / tileWidth) * Math.ceil(height / tileHeight)
    : Math.ceil(height / tileHeight);
  const layout: [number, number, number[]][] = spec.tile
    ? [
        [322, 4, [tileWidth]],
        [323, 4, [tileHeight]],
        [324, 4, new Array(pieces).fill(8)],
        [325, 4, new Array(pieces).fill(piece.length)],
      ]
    : [
        [273, 4, new Array(pieces).fill(8)],
        [278, 4, [tileHeight]],
        [279, 4, new Array(pieces).fill(piece.length)],
      ];
  const tags: [number, number, number[]][] = [
    [256, 4, [width]],
    [257, 4, [height]],
    [258, 3, new Array(channels).fill(bits)],
    [259, 3, [8]],
    [262, 3, [channels >= 3 ? 2 : 1]],
    [277, 3, [channels]],
    [284, 3, [1]],
    ...layout,
  ].sort((a, b) => (a[0] as number) - (b[0] as number)) as [number, number, number[]][];
  const ifd = 8 + piece.length + (piece.length % 2);
  let extra = ifd + 2 + tags.length * 12 + 4;
  const arrays = tags.reduce(
    (n, [, type, v]) => n + (v.length * (type === 3 ? 2 : 4) > 4 ? v.length * 4 : 0),
    0,
  );
  const out = new Uint8Array(extra + arrays);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  view.setUint32(4, ifd, true);
  out.set(piece, 8);
  view.setUint16(ifd, tags.length, true);
  tags.forEach(([id, type, values], i) => {
    const e = ifd + 2 + i * 12;
    view.setUint16(e, id, true);
    view.setUint16(e + 2, type === 3 && values.length * 2 > 4 ? 4 : type, true);
    view.setUint32(e + 4, values.length, true);
    let target = e + 8;
    if (values.length * (type === 3 ? 2 : 4) > 4) {
      view.setUint32(e + 8, extra, true);
      target = extra;
      extra += values.length * 4;
      for (const [k, v] of values.entries()) view.setUint32(target + 4 * k, v, true);
    } else {
      for (const [k, v] of values.entries()) {
        if (type === 3) view.setUint16(target + 2 * k, v, true);
        else view.setUint32(target + 4 * k, v, true);
      }
    }
  });
  return out;
}

/** A gray PNG of width × height zeros, made by hand: a few kilobytes that declare width × height pixels. */
export function pngBomb(width: number, height: number): Uint8Array {
  const zlib = deflateSync(new Uint8Array((width + 1) * height));
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit gray, deflate, no filter, no interlace
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib),
    chunk('IEND', new Uint8Array(0)),
  ];
  return Buffer.concat(parts);
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export function writeTiff(path: string, spec: TiffSpec): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodeTiff(spec));
  return path;
}

/** Deterministic pixel values that differ everywhere, so that a misplaced byte shows. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 37 + seed * 11 + (i >> 5)) & 255;
  return out;
}

/** A square mask (0/255) with a filled box from (x0,y0) to (x1,y1), exclusive. */
export function boxMask(width: number, height: number, box?: [number, number, number, number], on = 255) {
  const out = new Uint8Array(width * height);
  if (box) {
    const [x0, y0, x1, y1] = box;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out[y * width + x] = on;
  }
  return out;
}

export async function writePng(
  path: string,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  data: Uint8Array,
) {
  mkdirSync(dirname(path), { recursive: true });
  await sharp(data, { raw: { width, height, channels } }).png().toFile(path);
  return path;
}

export async function writeJpeg(path: string, width: number, height: number, data: Uint8Array) {
  mkdirSync(dirname(path), { recursive: true });
  await sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 100 })
    .toFile(path);
  return path;
}

/** A TIFF written by libvips with LZW compression (and horizontal predictor), the commonest compressed kind. */
export async function writeLzwTiff(
  path: string,
  width: number,
  height: number,
  channels: 1 | 3,
  data: Uint8Array,
) {
  mkdirSync(dirname(path), { recursive: true });
  await sharp(data, { raw: { width, height, channels } })
    .tiff({ compression: 'lzw', predictor: 'horizontal' })
    .toFile(path);
  return path;
}

export interface FakePatient {
  id: string;
  slices: number;
  /** Slice numbers (1-based) that get a tumour box. */
  tumour?: number[];
  size?: number;
}

/**
 * A kaggle_3m-shaped folder: <root>/<patient>/<patient>_<n>.tif and _mask.tif, plus data.csv (unless told not
 * to). Images are a pattern, masks 0/255 with a box on the tumour slices.
 */
export function writeKaggleFolder(root: string, patients: FakePatient[], withCsv = true): string {
  for (const p of patients) {
    const size = p.size ?? 16;
    for (let n = 1; n <= p.slices; n++) {
      const base = join(root, p.id, `${p.id}_${n}`);
      writeTiff(`${base}.tif`, {
        width: size,
        height: size,
        channels: 3,
        samples: pattern(size * size * 3, n),
      });
      const tumour = p.tumour?.includes(n)
        ? ([2, 2, 2 + n, 6] as [number, number, number, number])
        : undefined;
      writeTiff(`${base}_mask.tif`, {
        width: size,
        height: size,
        channels: 1,
        samples: boxMask(size, size, tumour),
      });
    }
  }
  if (withCsv) {
    const rows = patients.map(
      (p, i) => `${p.id.replace(/_\d{8}$/, '')},${i + 1},,${40 + i},"G${i % 2 ? 2 : 3}"`,
    );
    writeFileSync(join(root, 'data.csv'), ['Patient,RNASeqCluster,CNCluster,age,grade', ...rows].join('\n'));
  }
  return root;
}
