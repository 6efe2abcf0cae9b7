// The dataset picture: a grid of random slices with their masks overlaid in colour (filled at partial opacity,
// outlined at full), as in the reference design's "dataset visualisation". Pure pixel work plus one PNG writer.
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

/** Tiles the chosen slices into one RGB image with their masks overlaid. */
export function overlayGrid(cache: SliceCache, indices: readonly number[], o: OverlayOptions = {}): RgbImage {
  const columns = Math.max(1, Math.min(o.columns ?? 4, indices.length));
  const rows = Math.ceil(indices.length / columns);
  const gap = o.gap ?? 2;
  const [cr, cg, cb] = o.colour ?? [255, 40, 40];
  const alpha = o.alpha ?? 0.35;
  const { width: w, height: h } = cache;
  const width = columns * w + (columns - 1) * gap;
  const height = rows * h + (rows - 1) * gap;
  const out = new Uint8Array(width * height * 3);
  indices.forEach((slice, k) => {
    const ox = (k % columns) * (w + gap);
    const oy = Math.floor(k / columns) * (h + gap);
    const image = cache.images.subarray(slice * w * h * 3, (slice + 1) * w * h * 3);
    const mask = cache.masks?.subarray(slice * w * h, (slice + 1) * w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = (y * w + x) * 3;
        const dst = ((oy + y) * width + ox + x) * 3;
        let r = image[src]!;
        let g = image[src + 1]!;
        let b = image[src + 2]!;
        if (mask?.[y * w + x]) {
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
          r = Math.round(r * (1 - a) + cr * a);
          g = Math.round(g * (1 - a) + cg * a);
          b = Math.round(b * (1 - a) + cb * a);
        }
        out[dst] = r;
        out[dst + 1] = g;
        out[dst + 2] = b;
      }
    }
  });
  return { width, height, data: out };
}

export async function writeRgbPng(path: string, image: RgbImage): Promise<void> {
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
  // Atomic and named on failure (a full disk), as every output file is.
  writeFileAtomic(path, png);
}
