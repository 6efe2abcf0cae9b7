// The dataset picture: a grid of random slices with their masks overlaid in colour (filled at partial opacity,
// outlined at full), as in the reference design's "dataset visualisation", each tile captioned with its patient
// and slice number. Pure pixel work plus one PNG writer (captions drawn by resvg, as the report's figures are).
import { Resvg } from '@resvg/resvg-js';
import sharp from 'sharp';
import { writeFileAtomic } from '../engine/io/atomic.ts';
import { type Rng, shuffled } from './random.ts';
import type { SliceCache } from './slice-cache.ts';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB bytes. */
  data: Uint8Array;
}

/** Where one slice lies in a grid (top-left corner and size, in pixels) and which cache slice it is. */
export interface GridTile {
  x: number;
  y: number;
  width: number;
  height: number;
  slice: number;
}

export interface OverlayGrid extends RgbImage {
  tiles: GridTile[];
}

export interface OverlayOptions {
  columns?: number;
  /** Overlay colour, RGB. */
  colour?: [number, number, number];
  /** Opacity of the filled mask (the outline is opaque). */
  alpha?: number;
  /** Pixels between tiles. */
  gap?: number;
}

/**
 * Up to `n` random slices: half of them with tumour when the cache has masks and enough tumour slices, so the
 * picture shows what the masks look like; in cache order so patients stay together.
 */
export function chooseGridSlices(cache: SliceCache, n: number, rng: Rng): number[] {
  const all = Array.from({ length: cache.count }, (_, i) => i);
  if (!cache.masks)
    return shuffled(all, rng)
      .slice(0, n)
      .sort((a, b) => a - b);
  const tumour = shuffled(
    all.filter((i) => cache.tumourPixels[i]! > 0),
    rng,
  );
  const empty = shuffled(
    all.filter((i) => cache.tumourPixels[i] === 0),
    rng,
  );
  const wantTumour = Math.min(tumour.length, Math.ceil(n / 2));
  const picked = [...tumour.slice(0, wantTumour), ...empty.slice(0, n - wantTumour)];
  if (picked.length < n) picked.push(...tumour.slice(wantTumour, wantTumour + n - picked.length));
  return picked.sort((a, b) => a - b);
}

/**
 * One slice (interleaved RGB, w × h) with its mask (0/non-0, w × h) drawn over it: filled at `alpha`, outlined
 * opaque; a new RGB array.
 */
export function overlaySlice(
  image: Uint8Array,
  mask: Uint8Array | undefined,
  w: number,
  h: number,
  o: Pick<OverlayOptions, 'colour' | 'alpha'> = {},
): Uint8Array {
  const [cr, cg, cb] = o.colour ?? [255, 40, 40];
  const alpha = o.alpha ?? 0.35;
  const out = image.slice(0, w * h * 3);
  if (!mask) return out;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      const edge =
        x === 0 ||
        y === 0 ||
        x === w - 1 ||
        y === h - 1 ||
        !mask[y * w + x - 1] ||
        !mask[y * w + x + 1] ||
        !mask[(y - 1) * w + x] ||
        !mask[(y + 1) * w + x];
      const a = edge ? 1 : alpha;
      const at = (y * w + x) * 3;
      out[at] = Math.round(out[at]! * (1 - a) + cr * a);
      out[at + 1] = Math.round(out[at + 1]! * (1 - a) + cg * a);
      out[at + 2] = Math.round(out[at + 2]! * (1 - a) + cb * a);
    }
  }
  return out;
}

/** Tiles the chosen slices into one RGB image with their masks overlaid. */
export function overlayGrid(
  cache: SliceCache,
  indices: readonly number[],
  o: OverlayOptions = {},
): OverlayGrid {
  const columns = Math.max(1, Math.min(o.columns ?? 4, indices.length));
  const rows = Math.ceil(indices.length / columns);
  const gap = o.gap ?? 2;
  const { width: w, height: h } = cache;
  const width = columns * w + (columns - 1) * gap;
  const height = rows * h + (rows - 1) * gap;
  const out = new Uint8Array(width * height * 3);
  const tiles: GridTile[] = [];
  indices.forEach((slice, k) => {
    const ox = (k % columns) * (w + gap);
    const oy = Math.floor(k / columns) * (h + gap);
    tiles.push({ x: ox, y: oy, width: w, height: h, slice });
    const image = cache.images.subarray(slice * w * h * 3, (slice + 1) * w * h * 3);
    const mask = cache.masks?.subarray(slice * w * h, (slice + 1) * w * h);
    const tile = overlaySlice(image, mask, w, h, o);
    for (let y = 0; y < h; y++)
      out.set(tile.subarray(y * w * 3, (y + 1) * w * 3), ((oy + y) * width + ox) * 3);
  });
  return { width, height, data: out, tiles };
}

/** A tile's caption: the patient and the slice number, as the dataset names its files. */
export function tileCaption(cache: SliceCache, slice: number): string {
  const ref = cache.slices[slice]!;
  return `${ref.patientId} #${ref.sliceNumber}`;
}

/** One caption on a grid: the text, across the top of its tile. */
export interface TileCaption {
  tile: GridTile;
  text: string;
}

const escapeXml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * The captions as SVG over the image (a dark band with white text along each tile's top, sized to fit the tile),
 * for resvg. DejaVu Sans as the report's figures; another system font when it is missing.
 */
export function captionsSvg(image: RgbImage, pngBase64: string, captions: readonly TileCaption[]): string {
  const texts = captions.map(({ tile, text }) => {
    // DejaVu Sans averages about 0.6 em per character: the font shrinks so the caption fits the tile.
    const size = Math.max(6, Math.min(12, Math.floor((tile.width - 4) / (0.62 * text.length))));
    const band = size + 4;
    // A nested <svg> clips what does not fit a small tile, instead of writing over its neighbour.
    return (
      `<svg x="${tile.x}" y="${tile.y}" width="${tile.width}" height="${band}">` +
      `<rect width="${tile.width}" height="${band}" fill="black" fill-opacity="0.6"/>` +
      `<text x="2" y="${size + 1}" font-size="${size}" fill="white">${escapeXml(text)}</text></svg>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${image.width}" height="${image.height}" font-family="DejaVu Sans, sans-serif">` +
    `<image width="${image.width}" height="${image.height}" xlink:href="data:image/png;base64,${pngBase64}"/>` +
    `${texts.join('')}</svg>`
  );
}

/** The image as a PNG file, with `captions` drawn over it when given. */
export async function writeRgbPng(
  path: string,
  image: RgbImage,
  captions: readonly TileCaption[] = [],
): Promise<void> {
  let png: Uint8Array = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .png()
    .toBuffer();
  if (captions.length > 0) {
    const svg = captionsSvg(image, Buffer.from(png).toString('base64'), captions);
    png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
      .render()
      .asPng();
  }
  // Atomic and named on failure (a full disk), as every output file is.
  writeFileAtomic(path, png);
}
