// Cutting training batches from the slice cache: gather the slices' bytes, one copy into libtorch, geometric
// augmentation on the raw intensities (so the black outside stays black), then the saved preprocessing, then
// brightness/contrast. Labels (tumour or not) are read from the augmented masks, so a tumour rotated out of view
// is not called present.
import { cat, type Tensor, tensor } from '../engine/index.ts';
import {
  type AugmentConfig,
  type AugmentParams,
  drawAugmentParams,
  substituteMissingSequences,
  warpBatch,
} from './augment.ts';
import {
  neighbourSlice,
  type PreprocessConfig,
  sliceOffsets,
  type VolumeStats,
  volumeStats,
} from './preprocess.ts';
import type { Rng } from './random.ts';
import type { SliceCache } from './slice-cache.ts';

export interface Batch {
  /** [N,C,H,W] float32, preprocessed (and augmented); C = inputChannels(preprocess). */
  images: Tensor;
  /** [N,1,H,W] float32 of 0/1, when the cache has masks. */
  masks: Tensor | undefined;
  /** [N] int64: 1 where the (augmented) mask holds tumour, when the cache has masks. */
  labels: Tensor | undefined;
  /** Cache indices of the slices. */
  indices: Uint32Array;
}

export interface BatchOptions {
  preprocess: PreprocessConfig;
  /** Per patient, in cache.patients order; needed for 'volume-zscore' (see cacheVolumeStats). */
  volumeStats?: readonly VolumeStats[];
  /** Training-time augmentation; needs `rng`. */
  augment?: AugmentConfig;
  rng?: Rng;
}

/** 'volume-zscore' statistics of every patient in the cache (patients' slices are contiguous in it). */
export function cacheVolumeStats(cache: SliceCache, preprocess: PreprocessConfig): VolumeStats[] | undefined {
  const intensity = preprocess.intensity;
  if (intensity.kind !== 'volume-zscore') return undefined;
  const px = cache.width * cache.height * 3;
  return cache.patients.map((_, p) => {
    let first = -1;
    let last = -1;
    for (let i = 0; i < cache.count; i++) {
      if (cache.patientIndex[i] === p) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0) return { low: 0, high: 255, mean: [0, 0, 0], std: [1, 1, 1] };
    return volumeStats(cache.images.subarray(first * px, (last + 1) * px), intensity);
  });
}

/** Gathers bytes of the given slices: images N×H×W×3, masks N×H×W. */
export function gatherBytes(
  cache: SliceCache,
  indices: ArrayLike<number>,
  o: { masks?: boolean } = {},
): { images: Uint8Array; masks?: Uint8Array } {
  const px = cache.width * cache.height;
  const n = indices.length;
  const images = new Uint8Array(n * px * 3);
  const masks = cache.masks && o.masks !== false ? new Uint8Array(n * px) : undefined;
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    if (!(i >= 0 && i < cache.count))
      throw new RangeError(`slice index ${i} outside the cache (${cache.count})`);
    images.set(cache.images.subarray(i * px * 3, (i + 1) * px * 3), k * px * 3);
    masks?.set(cache.masks!.subarray(i * px, (i + 1) * px), k * px);
  }
  return masks ? { images, masks } : { images };
}

/** out = x · scale + shift, per slice and channel ([N·3] each): the whole intensity step in two tensor ops. */
interface ChannelAffine {
  scale: Float32Array;
  shift: Float32Array;
}

function applyAffine(images: Tensor, a: ChannelAffine): Tensor {
  const [n, c] = images.shape as [number, number];
  return images.mul(tensor(a.scale, [n, c, 1, 1])).add(tensor(a.shift, [n, c, 1, 1]));
}

/**
 * x / 255, then contrast c about the slice mean m and brightness b: (x/255 − m)·c + m + b, folded into one
 * affine map (every full-size tensor costs an allocation, and page faults cost more than the arithmetic).
 * Channel ch is sequence ch mod 3 of one of the stacked slices.
 */
function rescaleAffine(
  raw: Tensor,
  params: readonly AugmentParams[] | undefined,
  normalize: { mean?: number[]; std?: number[] },
): ChannelAffine {
  const [n, channels] = raw.shape as [number, number];
  const scale = new Float32Array(n * channels).fill(1 / 255);
  const shift = new Float32Array(n * channels);
  if (params && needsIntensity(params)) {
    const means = raw.mean([1, 2, 3]).data() as Float32Array;
    for (let k = 0; k < n; k++) {
      const { contrast: c, brightness: b } = params[k]!;
      const m = means[k]! / 255;
      for (let ch = 0; ch < channels; ch++) {
        scale[channels * k + ch] = c / 255;
        shift[channels * k + ch] = (1 - c) * m + b;
      }
    }
  }
  // Then (y − mean) / std per channel, folded into the same map.
  if (normalize.mean || normalize.std) {
    for (let k = 0; k < n; k++) {
      for (let ch = 0; ch < channels; ch++) {
        const mu = normalize.mean?.[ch % 3] ?? 0;
        const sigma = normalize.std?.[ch % 3] ?? 1;
        scale[channels * k + ch] = scale[channels * k + ch]! / sigma;
        shift[channels * k + ch] = (shift[channels * k + ch]! - mu) / sigma;
      }
    }
  }
  return { scale, shift };
}

/**
 * (x − μ_ch) / σ_ch of the clipped image, then contrast about the normalised slice mean and brightness, folded
 * into one affine map per slice and channel (channel ch is sequence ch mod 3 of one of the stacked slices).
 */
function zscoreAffine(
  clipped: Tensor,
  stats: readonly VolumeStats[],
  params: readonly AugmentParams[] | undefined,
): ChannelAffine {
  const [n, channels] = clipped.shape as [number, number];
  const scale = new Float32Array(n * channels);
  const shift = new Float32Array(n * channels);
  const adjust = params && needsIntensity(params);
  const channelMeans = adjust ? (clipped.mean([2, 3]).data() as Float32Array) : undefined;
  for (let k = 0; k < n; k++) {
    const s = stats[k]!;
    const c = adjust ? params[k]!.contrast : 1;
    const b = adjust ? params[k]!.brightness : 0;
    // The normalised slice's mean over all channels (each channel has the same number of pixels).
    let m = 0;
    if (channelMeans)
      for (let ch = 0; ch < channels; ch++)
        m += (channelMeans[channels * k + ch]! - s.mean[ch % 3]!) / s.std[ch % 3]! / channels;
    for (let ch = 0; ch < channels; ch++) {
      scale[channels * k + ch] = c / s.std[ch % 3]!;
      shift[channels * k + ch] = (-s.mean[ch % 3]! / s.std[ch % 3]!) * c + (1 - c) * m + b;
    }
  }
  return { scale, shift };
}

function needsIntensity(params: readonly AugmentParams[]): boolean {
  return params.some((p) => p.contrast !== 1 || p.brightness !== 0);
}

/** One batch of the given cache slices. Creates tensors: call inside tidy() and keep what you return. */
export function assembleBatch(cache: SliceCache, indices: ArrayLike<number>, o: BatchOptions): Batch {
  const { width, height, intensity } = o.preprocess;
  if (width !== cache.width || height !== cache.height) {
    throw new RangeError(
      `cache is ${cache.width}×${cache.height} but the preprocessing wants ${width}×${height}`,
    );
  }
  const n = indices.length;
  const bytes = gatherBytes(cache, indices);
  const params = o.augment
    ? Array.from({ length: n }, () => {
        if (!o.rng) throw new Error('augmentation needs a seeded rng');
        return drawAugmentParams(o.augment!, o.rng);
      })
    : undefined;
  // 2.5-D: each neighbour's bytes beside the slice's own, the same sequences missing in all of them.
  const volumeOf = (i: number) => cache.patientIndex[i]!;
  const stacked = sliceOffsets(o.preprocess).map((offset) =>
    offset === 0
      ? bytes.images
      : gatherBytes(
          cache,
          Array.from(indices, (i) => neighbourSlice(i, offset, cache.count, volumeOf)),
          { masks: false },
        ).images,
  );
  if (params) for (const images of stacked) substituteMissingSequences(images, params);
  const planar = stacked.map((b) => tensor(b, [n, height, width, 3]).permute(0, 3, 1, 2));
  let images = (planar.length === 1 ? planar[0]! : cat(planar, 1)).float();
  let masks = bytes.masks ? tensor(bytes.masks, [n, 1, height, width]).float() : undefined;
  if (params) ({ images, masks } = warpBatch(images, masks, params));
  if (intensity.kind === 'volume-zscore') {
    const stats = o.volumeStats;
    if (!stats) throw new Error("'volume-zscore' preprocessing needs volumeStats (cacheVolumeStats)");
    const per = Array.from(indices, (i) => stats[cache.patientIndex[i]!]!);
    images = images
      .maximum(tensor(Float32Array.from(per.map((s) => s.low)), [n, 1, 1, 1]))
      .minimum(tensor(Float32Array.from(per.map((s) => s.high)), [n, 1, 1, 1]));
    images = applyAffine(images, zscoreAffine(images, per, params));
  } else images = applyAffine(images, rescaleAffine(images, params, intensity));
  const labels = masks ? masks.amax([1, 2, 3]).gt(0).long() : undefined;
  return { images, masks, labels, indices: Uint32Array.from(indices) };
}
