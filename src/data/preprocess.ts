// Intensity preprocessing, described by a config object that is saved with the model so that inference repeats
// it exactly: 'rescale' divides by 255 (the reference design), then optionally normalises each channel with a
// fixed mean and standard deviation (ImageNet's, for weights pretrained on it); 'volume-zscore' is Buda et al.'s
// normalize_volume: clip each patient volume to its 10th–99th intensity percentiles (over all channels), then
// z-score each channel with the volume's mean and standard deviation.
import { z } from 'zod';

export const intensitySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('rescale'),
    /** Per-channel (x/255 − mean) / std after rescaling, e.g. IMAGENET_NORMALIZATION. */
    mean: z.array(z.number()).length(3).optional(),
    std: z.array(z.number().positive()).length(3).optional(),
  }),
  z.object({
    kind: z.literal('volume-zscore'),
    lowPercentile: z.number().min(0).max(100),
    highPercentile: z.number().min(0).max(100),
  }),
]);

export const preprocessConfigSchema = z.object({
  version: z.literal(1),
  /** Model input size: slices of another size are resized (bilinear images, nearest masks). */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Input channels: the dataset's pre-contrast, FLAIR, post-contrast; grayscale is repeated into 3. */
  channels: z.literal(3),
  /**
   * 2.5-D input: this many neighbouring slices of the same volume on each side, stacked as further channels
   * (slice k−n first, slice k in the middle); at a volume's ends the last slice there stands in. Absent: 0.
   */
  neighbours: z.number().int().min(0).max(4).optional(),
  intensity: intensitySchema,
});

export type PreprocessConfig = z.infer<typeof preprocessConfigSchema>;
export type IntensityConfig = z.infer<typeof intensitySchema>;
export type VolumeZscoreConfig = Extract<IntensityConfig, { kind: 'volume-zscore' }>;

export const RESCALE_256: PreprocessConfig = {
  version: 1,
  width: 256,
  height: 256,
  channels: 3,
  intensity: { kind: 'rescale' },
};

export const BUDA_VOLUME_ZSCORE: VolumeZscoreConfig = {
  kind: 'volume-zscore',
  lowPercentile: 10,
  highPercentile: 99,
};

/** Channels of the network's input: each stacked slice's three. */
export function inputChannels(config: PreprocessConfig): number {
  return config.channels * sliceOffsets(config).length;
}

/** Offsets of the stacked slices in channel order, −n … 0 … n. */
export function sliceOffsets(config: PreprocessConfig): number[] {
  const n = config.neighbours ?? 0;
  return Array.from({ length: 2 * n + 1 }, (_, k) => k - n);
}

/**
 * The slice `offset` steps from slice `i` (of `count`) inside its volume: `volumeOf` tells slices of different
 * volumes apart (absent: all one volume). Where the volume ends first, its last slice on that side stands in.
 */
export function neighbourSlice(
  i: number,
  offset: number,
  count: number,
  volumeOf?: (slice: number) => number,
): number {
  const step = Math.sign(offset);
  let j = i;
  for (let s = 0; s < Math.abs(offset); s++) {
    const next = j + step;
    if (next < 0 || next >= count || (volumeOf && volumeOf(next) !== volumeOf(i))) break;
    j = next;
  }
  return j;
}

/** Validates a config read from a model's saved files (throws a ZodError that lists what is wrong). */
export function parsePreprocessConfig(json: unknown): PreprocessConfig {
  return preprocessConfigSchema.parse(json);
}

/** Per-volume statistics of 'volume-zscore': a clip range shared by the channels, mean and std per channel. */
export interface VolumeStats {
  low: number;
  high: number;
  mean: [number, number, number];
  std: [number, number, number];
}

/**
 * Percentile of byte values from their histogram, interpolated linearly between the two nearest ranks
 * (numpy.percentile's default), without sorting the volume.
 */
export function histogramPercentile(histogram: ArrayLike<number>, total: number, percentile: number): number {
  const rank = ((total - 1) * percentile) / 100;
  const lo = Math.floor(rank);
  const valueAt = (k: number): number => {
    let seen = 0;
    for (let v = 0; v < histogram.length; v++) {
      seen += histogram[v]!;
      if (seen > k) return v;
    }
    return histogram.length - 1;
  };
  const a = valueAt(lo);
  const b = valueAt(Math.min(lo + 1, total - 1));
  return a + (b - a) * (rank - lo);
}

/** Statistics of one patient's volume: `images` holds its slices as interleaved RGB bytes. */
export function volumeStats(images: Uint8Array, config: VolumeZscoreConfig): VolumeStats {
  const histograms = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  for (let i = 0; i < images.length; i += 3) {
    histograms[0]![images[i]!]!++;
    histograms[1]![images[i + 1]!]!++;
    histograms[2]![images[i + 2]!]!++;
  }
  const all = new Float64Array(256);
  for (const h of histograms) for (let v = 0; v < 256; v++) all[v]! += h[v]!;
  const total = images.length;
  const low = histogramPercentile(all, total, config.lowPercentile);
  const high = histogramPercentile(all, total, config.highPercentile);
  const mean: [number, number, number] = [0, 0, 0];
  const std: [number, number, number] = [0, 0, 0];
  const n = total / 3;
  histograms.forEach((h, c) => {
    let sum = 0;
    let sumSq = 0;
    for (let v = 0; v < 256; v++) {
      const x = Math.min(Math.max(v, low), high);
      sum += h[v]! * x;
      sumSq += h[v]! * x * x;
    }
    mean[c] = sum / n;
    // Population std, as numpy's default; a flat channel gets 1 so it maps to zeros, not NaN.
    std[c] = Math.sqrt(Math.max(sumSq / n - mean[c] ** 2, 0)) || 1;
  });
  return { low, high, mean, std };
}

/**
 * The intensity step as one affine map per channel, out = clip(x)·scale + shift, with scale and shift held in
 * float32 as batches compute them on tensors (src/data/batch.ts): x/255 is x·fl(1/255), not a division.
 */
export function channelAffine(
  intensity: IntensityConfig,
  stats?: VolumeStats,
): { scale: Float32Array; shift: Float32Array; low: number; high: number } {
  const scale = new Float32Array(3);
  const shift = new Float32Array(3);
  if (intensity.kind === 'rescale') {
    scale.fill(1 / 255);
    if (intensity.mean || intensity.std) {
      for (let c = 0; c < 3; c++) {
        const sigma = intensity.std?.[c] ?? 1;
        scale[c] = scale[c]! / sigma;
        shift[c] = (0 - (intensity.mean?.[c] ?? 0)) / sigma;
      }
    }
    return { scale, shift, low: 0, high: 255 };
  }
  if (!stats) throw new Error('volume-zscore preprocessing needs the volume statistics');
  for (let c = 0; c < 3; c++) {
    scale[c] = 1 / stats.std[c]!;
    shift[c] = -stats.mean[c]! / stats.std[c]!;
  }
  return { scale, shift, low: Math.fround(stats.low), high: Math.fround(stats.high) };
}

/**
 * One slice of interleaved RGB bytes to planar CHW floats as the model sees it: every inference path (predict,
 * serve, evaluate, the browser) preprocesses here, with the float32 arithmetic of the training batches, so that
 * a slice gives the network the same bits whichever path it takes.
 */
export function preprocessSlice(
  rgb: Uint8Array,
  intensity: IntensityConfig,
  stats?: VolumeStats,
): Float32Array {
  const n = rgb.length / 3;
  const out = new Float32Array(rgb.length);
  const { scale, shift, low, high } = channelAffine(intensity, stats);
  for (let c = 0; c < 3; c++) {
    const a = scale[c]!;
    const b = shift[c]!;
    for (let i = 0; i < n; i++) {
      const x = Math.min(Math.max(rgb[3 * i + c]!, low), high);
      // Two float32 operations, as libtorch's mul then add.
      out[c * n + i] = Math.fround(x * a) + b;
    }
  }
  return out;
}

/**
 * Network input [n, C, H, W] of slices `indices` of `rgb` (slices of config.width × config.height interleaved RGB
 * bytes, one after another; C = inputChannels(config)); `statsOf` gives each slice's volume statistics
 * ('volume-zscore' only), `volumeOf` which volume a slice belongs to when `rgb` holds several (neighbours are
 * taken inside it).
 */
export function preprocessSlices(
  rgb: Uint8Array,
  indices: readonly number[],
  config: PreprocessConfig,
  statsOf: (index: number) => VolumeStats | undefined = () => undefined,
  volumeOf?: (index: number) => number,
): Float32Array {
  const size = config.width * config.height * 3;
  if (rgb.length % size !== 0)
    throw new RangeError(`${rgb.length} bytes are not whole ${config.width}×${config.height} RGB slices`);
  const count = rgb.length / size;
  const offsets = sliceOffsets(config);
  const out = new Float32Array(indices.length * offsets.length * size);
  indices.forEach((i, k) => {
    if (!(i >= 0 && i < count)) throw new RangeError(`slice ${i} outside the volume`);
    offsets.forEach((offset, q) => {
      const j = neighbourSlice(i, offset, count, volumeOf);
      const planes = preprocessSlice(rgb.subarray(j * size, (j + 1) * size), config.intensity, statsOf(i));
      out.set(planes, (k * offsets.length + q) * size);
    });
  });
  return out;
}
