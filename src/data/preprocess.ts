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
 * One slice of interleaved RGB bytes to planar CHW floats as the model sees it. The reference implementation
 * (batches use the same arithmetic on tensors).
 */
export function preprocessSlice(
  rgb: Uint8Array,
  intensity: IntensityConfig,
  stats?: VolumeStats,
): Float32Array {
  const n = rgb.length / 3;
  const out = new Float32Array(rgb.length);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const v = rgb[3 * i + c]!;
      if (intensity.kind === 'rescale') {
        out[c * n + i] = (v / 255 - (intensity.mean?.[c] ?? 0)) / (intensity.std?.[c] ?? 1);
      } else {
        if (!stats) throw new Error('volume-zscore preprocessing needs the volume statistics');
        const x = Math.min(Math.max(v, stats.low), stats.high);
        out[c * n + i] = (x - stats.mean[c]!) / stats.std[c]!;
      }
    }
  }
  return out;
}
