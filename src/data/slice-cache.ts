// Decoding every slice of an index once into two contiguous byte arrays (images N×H×W×3, masks N×H×W of 0/1),
// so that batches are cut from memory. Every file is decoded and checked here, before training starts: a bad
// file fails (or is skipped) now, never half-way through an epoch.
import type { DatasetIndex, SliceRef } from './dataset-index.ts';
import { DataError, MaskSizeMismatchError, type Problem, ProblemLog } from './errors.ts';
import {
  binariseMask,
  binariseMaskInto,
  type DecodedImage,
  resizeBilinear,
  resizeNearest,
  toRgb,
} from './image.ts';
import { ReusingImageReader } from './read-image.ts';

export interface SliceCache {
  width: number;
  height: number;
  /** Number of slices kept. */
  count: number;
  /** count × height × width × 3 bytes, interleaved RGB. */
  images: Uint8Array;
  /** count × height × width bytes of 0/1, or undefined when the slices have no masks. */
  masks: Uint8Array | undefined;
  /** The kept slices, in cache order (patient by patient, slice order). */
  slices: SliceRef[];
  /** Tumour pixels of each slice at cache size (all 0 without masks). */
  tumourPixels: Uint32Array;
  /** Patient ids; `patientIndex[i]` is slice i's position in it. */
  patients: string[];
  patientIndex: Uint32Array;
  /** What decoding changed, once per kind of change (e.g. 16-bit scaling), with a count of slices. */
  notes: string[];
  /** Files skipped with skipBadFiles (scan problems included). */
  problems: Problem[];
}

export interface LoadOptions {
  /** Cache size; slices of another size are resized (bilinear images, nearest masks). Default 256×256. */
  width?: number;
  height?: number;
  skipBadFiles?: boolean;
  /** Called after each slice with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
  warn?: (message: string) => void;
}

interface DecodedPair {
  image: DecodedImage;
  mask?: DecodedImage;
}

async function decodePair(reader: ReusingImageReader, slice: SliceRef): Promise<DecodedPair> {
  const image = await reader.decode(slice.imagePath, 0);
  if (!slice.maskPath) return { image };
  const mask = await reader.decode(slice.maskPath, 1);
  if (mask.width !== image.width || mask.height !== image.height) {
    throw new MaskSizeMismatchError(
      slice.imagePath,
      slice.maskPath,
      [image.width, image.height],
      [mask.width, mask.height],
    );
  }
  return { image, mask };
}

/** Slice k's mask as 0/1 at the cache size, written into `masks`; returns its tumour pixels. */
function binariseInto(
  mask: DecodedImage,
  file: string,
  masks: Uint8Array,
  k: number,
  width: number,
  height: number,
): number {
  const slot = masks.subarray(k * width * height, (k + 1) * width * height);
  if (mask.width === width && mask.height === height) return binariseMaskInto(mask, slot, file);
  slot.set(resizeNearest(binariseMask(mask, file), mask.width, mask.height, width, height));
  let sum = 0;
  for (let j = 0; j < slot.length; j++) sum += slot[j]!;
  return sum;
}

/** Decodes every slice of `index` into memory. */
export async function loadSlices(index: DatasetIndex, options: LoadOptions = {}): Promise<SliceCache> {
  const width = options.width ?? 256;
  const height = options.height ?? width;
  for (const [option, value] of [
    ['width', width],
    ['height', height],
  ] as const)
    if (!Number.isSafeInteger(value) || value < 1)
      throw new RangeError(`${option} must be an integer ≥ 1 to decode slices at, got ${value}`);
  const log = new ProblemLog(options.skipBadFiles ?? false, options.warn);
  const slices = index.patients.flatMap((p) => p.slices);
  const pixels = width * height;
  const images = new Uint8Array(slices.length * pixels * 3);
  const masks = index.hasMasks ? new Uint8Array(slices.length * pixels) : undefined;
  const tumourPixels = new Uint32Array(slices.length);
  const patients = index.patients.map((p) => p.id);
  const patientIndex = new Uint32Array(slices.length);
  const patientPosition = new Map(patients.map((id, i) => [id, i]));
  const noteCounts = new Map<string, number>();
  const kept: SliceRef[] = [];
  const reader = new ReusingImageReader();
  for (let i = 0; i < slices.length; i++) {
    const slice = slices[i]!;
    const k = kept.length;
    let pair: DecodedPair;
    try {
      pair = await decodePair(reader, slice);
      // Binarising checks the mask's values: a bad mask is a bad file, as an unreadable one is.
      if (masks && pair.mask)
        tumourPixels[k] = binariseInto(pair.mask, slice.maskPath!, masks, k, width, height);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      log.report(err);
      options.onProgress?.(i + 1, slices.length);
      continue;
    }
    const rgb = toRgb(pair.image);
    images.set(resizeBilinear(rgb.data, rgb.width, rgb.height, 3, width, height), k * pixels * 3);
    if (rgb.width !== width || rgb.height !== height) {
      const note = `resized from ${rgb.width}×${rgb.height} to ${width}×${height}`;
      noteCounts.set(note, (noteCounts.get(note) ?? 0) + 1);
    }
    if (pair.image.note) noteCounts.set(pair.image.note, (noteCounts.get(pair.image.note) ?? 0) + 1);
    patientIndex[k] = patientPosition.get(slice.patientId) ?? 0;
    kept.push(slice);
    options.onProgress?.(i + 1, slices.length);
  }
  const count = kept.length;
  if (count === 0)
    throw new DataError('empty-dataset', index.source, `no slice could be decoded (${log.count} bad)`);
  return {
    width,
    height,
    count,
    images: count === slices.length ? images : images.slice(0, count * pixels * 3),
    masks: masks && (count === slices.length ? masks : masks.slice(0, count * pixels)),
    slices: kept,
    tumourPixels: tumourPixels.slice(0, count),
    patients,
    patientIndex: patientIndex.slice(0, count),
    notes: [...noteCounts].map(([note, n]) => `${note}: ${n} slice${n === 1 ? '' : 's'}`),
    problems: [...index.problems, ...log.problems],
  };
}

/** Whether slice i of the cache holds tumour. */
export function hasTumour(cache: SliceCache, i: number): boolean {
  return cache.tumourPixels[i]! > 0;
}
