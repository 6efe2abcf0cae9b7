// Prediction on slices in memory, the core of `tumorscope predict` and the server: stage 1 scores every slice,
// stage 2 segments the slices it calls positive, and the segmenter's saved post-processing runs on each
// patient volume. The per-volume work is two-stage.ts's segmentVolume, the one `tumorscope evaluate` uses, so a
// prediction's masks are evaluation's final masks. Synchronous and file-free, so that it can run in a worker.
import { cacheVolumeStats } from '../data/batch.ts';
import { cacheFromImages } from '../data/cache-from-images.ts';
import { type DataError, MixedSliceSizesError, TooManySlicesError } from '../data/errors.ts';
import type { DecodedImage } from '../data/image.ts';
import { resizeBilinear, resizeNearest } from '../data/image.ts';
import type { SliceCache } from '../data/slice-cache.ts';
import { groupVolumes, MAX_SLICES_PER_PATIENT } from '../data/slice-names.ts';
import { type BoundingBox, maskExtent } from '../metrics/mask-extent.ts';
import { classifierScores } from '../train/inference.ts';
import type { LoadedClassifier, LoadedSegmenter } from './load-model.ts';
import { finalVolumeMask, Segmentation } from './two-stage.ts';

export interface SliceInput {
  /** Shown in results and errors (a file name, for files). */
  name: string;
  patient: string;
  sliceNumber: number;
  /** Any size, 1 or 3 channels: resized to each model's input as files are. */
  image: DecodedImage;
}

export interface SlicePrediction {
  name: string;
  patient: string;
  slice: number;
  /** The input image's size. */
  width: number;
  height: number;
  /** The classifier's P(tumour). */
  probability: number;
  /** probability >= the classifier's threshold: the stage-1 decision. */
  tumour: boolean;
  /**
   * height × width bytes of 0/1 at the input's size (nearest resize of the segmenter's output), when `tumour`;
   * it may be empty where post-processing removed what the segmenter found.
   */
  mask: Uint8Array | null;
  areaPixels: number;
  /** The smallest box holding the mask, in input pixels; null when the mask is empty or absent. */
  bbox: BoundingBox | null;
  /**
   * With PredictOptions.probabilities: the segmenter's tumour probability per pixel at the input's size (bilinear
   * from the model's), before post-processing, when `tumour`; null for slices stage 1 rejects.
   */
  probabilities?: Float32Array | null;
}

export interface PatientPrediction {
  patient: string;
  slices: number;
  /** Slices the classifier called tumour (`tumour`). */
  positiveSlices: number;
  /** Slice numbers of the first and last positive slice. */
  firstPositiveSlice: number | null;
  lastPositiveSlice: number | null;
  /** Tumour pixels over the patient's slices, at the input size (the sum of areaPixels). */
  volumeVoxels: number;
}

export interface Prediction {
  /** Sorted by patient, then slice number. */
  slices: SlicePrediction[];
  /** In the same patient order. */
  patients: PatientPrediction[];
}

export interface LoadedModels {
  classifier: LoadedClassifier;
  segmenter: LoadedSegmenter;
}

export interface PredictOptions {
  /** Slices per inference batch (default 16). */
  batch?: number;
  /**
   * Called as the work advances, in slices: a patient's slices count half when classified and in full when their
   * volume is segmented. `done` reaches `total` (the number of inputs) at the end.
   */
  onProgress?: (done: number, total: number) => void;
  /** Called before each inference batch; throwing from it stops the prediction there (a server shutting down). */
  beforeBatch?: () => void;
  /** Keep the segmenter's probability maps (SlicePrediction.probabilities). */
  probabilities?: boolean;
}

function checkInput(input: SliceInput): void {
  const { width, height, channels, data } = input.image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${input.name}: image size ${width}×${height} is not a positive whole number of pixels`);
  }
  if (channels !== 1 && channels !== 3)
    throw new Error(`${input.name}: ${channels} channels (1 or 3 expected)`);
  if (data.length !== width * height * channels) {
    throw new Error(
      `${input.name}: ${data.length} bytes for a ${width}×${height}×${channels} image (${width * height * channels} expected)`,
    );
  }
  if (!Number.isFinite(input.sliceNumber))
    throw new Error(`${input.name}: slice number ${input.sliceNumber}`);
}

/**
 * The slices of one patient volume whose size differs from the volume's, each with an error naming it. The
 * volume's size is its most common one (the first slice's on a tie): slices are stacked into one grid for the
 * 3-D post-processing, and resizing odd ones into it would misalign them without a word.
 */
export function oddSizedSlices<T extends SliceInput>(
  volume: readonly T[],
  fileOf: (slice: T) => string = (slice) => slice.name,
): { slice: T; error: DataError }[] {
  const counts = new Map<string, number>();
  for (const { image } of volume) {
    const key = `${image.width}×${image.height}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (counts.size <= 1) return [];
  let common = '';
  for (const [key, n] of counts) if (n > (counts.get(common) ?? 0)) common = key;
  const [width, height] = common.split('×').map(Number) as [number, number];
  return volume
    .filter(({ image }) => image.width !== width || image.height !== height)
    .map((slice) => ({
      slice,
      error: new MixedSliceSizesError(
        fileOf(slice),
        slice.patient,
        [slice.image.width, slice.image.height],
        [width, height],
      ),
    }));
}

/**
 * The inputs grouped by patient (natural order), each in slice order; a slice given twice, a volume of more
 * than MAX_SLICES_PER_PATIENT slices and slices of mixed sizes in one volume are refused.
 */
function volumesOf(inputs: readonly SliceInput[]): SliceInput[][] {
  inputs.forEach(checkInput);
  const volumes = groupVolumes(inputs, (s) => s.name);
  for (const volume of volumes) {
    const first = volume[0]!;
    if (volume.length > MAX_SLICES_PER_PATIENT) {
      throw new TooManySlicesError(first.name, first.patient, volume.length, MAX_SLICES_PER_PATIENT);
    }
    const odd = oddSizedSlices(volume)[0];
    if (odd) throw odd.error;
  }
  return volumes;
}

function summarise(patient: string, slices: readonly SlicePrediction[]): PatientPrediction {
  const positive = slices.filter((s) => s.tumour);
  return {
    patient,
    slices: slices.length,
    positiveSlices: positive.length,
    firstPositiveSlice: positive[0]?.slice ?? null,
    lastPositiveSlice: positive[positive.length - 1]?.slice ?? null,
    volumeVoxels: slices.reduce((sum, s) => sum + s.areaPixels, 0),
  };
}

/** The caches of one volume at each model's input size (one cache when both sizes agree). */
function volumeCaches(
  models: LoadedModels,
  volume: readonly SliceInput[],
): { small: SliceCache; large: SliceCache } {
  const c = models.classifier.preprocess;
  const s = models.segmenter.preprocess;
  const small = cacheFromImages(volume, c.width, c.height);
  const large =
    c.width === s.width && c.height === s.height ? small : cacheFromImages(volume, s.width, s.height);
  return { small, large };
}

/** Both stages on every input, patient volume by patient volume. */
export function predictSlices(
  models: LoadedModels,
  inputs: readonly SliceInput[],
  options: PredictOptions = {},
): Prediction {
  const batch = options.batch ?? 16;
  if (!Number.isInteger(batch) || batch < 1)
    throw new RangeError(`batch must be a whole number >= 1, got ${batch}`);
  const { classifier, segmenter } = models;
  const threshold = classifier.config.threshold;
  const total = inputs.length;
  const volumes = volumesOf(inputs);
  const slices: SlicePrediction[] = [];
  const patients: PatientPrediction[] = [];
  let done = 0;
  for (const volume of volumes) {
    const { small, large } = volumeCaches(models, volume);
    const indices = volume.map((_, k) => k);
    // Scored batch by batch (as classifySlices does, without its console bar) so progress can be reported.
    const volumeStats = cacheVolumeStats(small, classifier.preprocess);
    const scores = new Float32Array(volume.length);
    for (let start = 0; start < volume.length; start += batch) {
      const chunk = indices.slice(start, start + batch);
      const o = {
        cache: small,
        indices: chunk,
        preprocess: classifier.preprocess,
        volumeStats,
        batchSize: batch,
        ...(options.beforeBatch ? { beforeBatch: options.beforeBatch } : {}),
      };
      scores.set(classifierScores(classifier.model, o), start);
      options.onProgress?.(done + Math.floor((start + chunk.length) / 2), total);
    }
    const called = Array.from(scores, (p) => p >= threshold);
    const segmentation = new Segmentation(segmenter, large, batch, options.beforeBatch);
    const pixels = large.width * large.height;
    const kept = new Map<number, Float32Array>();
    const keep = (probabilities: Float32Array, run: readonly number[]) => {
      run.forEach((k, r) => {
        kept.set(k, probabilities.subarray(r * pixels, (r + 1) * pixels));
      });
    };
    const final = finalVolumeMask(segmentation, indices, called, options.probabilities ? keep : undefined);
    const predicted = volume.map((input, k): SlicePrediction => {
      const { width, height } = input.image;
      const base = { name: input.name, patient: input.patient, slice: input.sliceNumber, width, height };
      const probability = scores[k]!;
      if (!called[k]) {
        const none = options.probabilities ? { probabilities: null } : {};
        return { ...base, probability, tumour: false, mask: null, areaPixels: 0, bbox: null, ...none };
      }
      // A copy either way: the volume's array is not kept alive by one slice's view.
      const atModel = final.slice(k * pixels, (k + 1) * pixels);
      const mask = resizeNearest(atModel, large.width, large.height, width, height);
      const { area, bbox } = maskExtent(mask, width, height);
      const atInput = (p: Float32Array) =>
        resizeBilinear(p, large.width, large.height, 1, width, height).slice();
      const probabilities = options.probabilities ? { probabilities: atInput(kept.get(k)!) } : {};
      return { ...base, probability, tumour: true, mask, areaPixels: area, bbox, ...probabilities };
    });
    slices.push(...predicted);
    patients.push(summarise(volume[0]!.patient, predicted));
    done += volume.length;
    options.onProgress?.(done, total);
  }
  return { slices, patients };
}
