// Prediction on decoded slices, the same for `tumorscope predict`, the server's worker and the page's in-browser
// inference: the slices are checked and grouped into patient volumes, each volume runs through the two stages
// (two-stage.ts), and each slice's mask is resized back to the slice's own size and summarised, with a summary
// per patient. Pure and asynchronous: the networks are the runners' business.
import { cacheFromImages } from '../data/cache-from-images.ts';
import { type DataError, MixedSliceSizesError, TooManySlicesError } from '../data/errors.ts';
import { type DecodedImage, resizeBilinear, resizeNearest } from '../data/image.ts';
import { groupVolumes, MAX_SLICES_PER_PATIENT } from '../data/slice-names.ts';
import { maskExtent } from '../metrics/mask-extent.ts';
import type { FusionConfig } from '../postprocess/fusion.ts';
import { checkBatchSize } from './batch-size.ts';
import type { PatientPrediction, SliceResult } from './prediction-schema.ts';
import { savedGate, type TwoStageModels, twoStageVolume, type VolumeImages } from './two-stage.ts';

export interface SliceInput {
  /** Shown in results and errors (a file name, for files). */
  name: string;
  patient: string;
  sliceNumber: number;
  /** Any size, 1 or 3 channels: resized to each model's input as files are. */
  image: DecodedImage;
}

/** One slice's result: the API's fields (prediction-schema.ts), with the mask as bytes. */
export interface SlicePrediction extends Omit<SliceResult, 'mask' | 'image'> {
  /**
   * height × width bytes of 0/1 at the input's size (nearest resize of the final output), when `tumour`.
   * (A nearest resize to a much smaller input can drop a tiny mask: `areaPixels` then says 0.)
   */
  mask: Uint8Array | null;
  /**
   * With PredictOptions.probabilities: the segmenter's tumour probability per pixel at the input's size (bilinear
   * from the model's), before post-processing, when `tumour`; null for the other slices.
   */
  probabilities?: Float32Array | null;
}

export type { PatientPrediction };

export interface Prediction {
  /** Sorted by patient, then slice number. */
  slices: SlicePrediction[];
  /** In the same patient order. */
  patients: PatientPrediction[];
  /** The fusion rule that decided. */
  gate: FusionConfig;
}

export interface PredictOptions {
  /** Slices per inference batch (default 16). */
  batch?: number;
  /** The fusion rule (default: the one saved with the models, else the classifier alone). */
  fusion?: FusionConfig;
  /**
   * Called as the work advances, in slices: a patient's slices count half when classified and in full when their
   * volume is segmented. `done` reaches `total` (the number of inputs) at the end.
   */
  onProgress?: (done: number, total: number) => void;
  /** Called before each inference batch; throwing from it stops the prediction there (a server shutting down). */
  beforeBatch?: () => void;
  /** Keep the segmenter's probability maps (SlicePrediction.probabilities). */
  probabilities?: boolean;
  /** Segment called slices while the classifier scores the next ones (VolumeOptions.overlapStages). */
  overlapStages?: boolean;
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

/** A volume of decoded slices, resized to each size asked for as files are resized (cache-from-images.ts). */
function decodedVolume(volume: readonly SliceInput[]): VolumeImages {
  const sizes = new Map<string, Uint8Array>();
  return {
    depth: volume.length,
    rgb(width, height) {
      const key = `${width}×${height}`;
      let rgb = sizes.get(key);
      if (!rgb) {
        rgb = cacheFromImages(volume, width, height).images;
        sizes.set(key, rgb);
      }
      return rgb;
    },
  };
}

function summarise(
  patient: string,
  slices: readonly SlicePrediction[],
  volumeSteps: string[],
): PatientPrediction {
  const positive = slices.filter((s) => s.tumour);
  return {
    patient,
    slices: slices.length,
    positiveSlices: positive.length,
    classifierCalledSlices: slices.filter((s) => s.classifierCall).length,
    firstPositiveSlice: positive[0]?.slice ?? null,
    lastPositiveSlice: positive[positive.length - 1]?.slice ?? null,
    volumeVoxels: slices.reduce((sum, s) => sum + s.areaPixels, 0),
    volumeSteps,
  };
}

/** Both stages on every input, patient volume by patient volume. */
export async function predictSlices(
  models: TwoStageModels,
  inputs: readonly SliceInput[],
  options: PredictOptions = {},
): Promise<Prediction> {
  const batch = options.batch ?? 16;
  checkBatchSize(batch);
  const total = inputs.length;
  const volumes = volumesOf(inputs);
  const { width: modelWidth, height: modelHeight } = models.segmenter.preprocess;
  const pixels = modelWidth * modelHeight;
  const slices: SlicePrediction[] = [];
  const patients: PatientPrediction[] = [];
  const gate = options.fusion ?? savedGate(models);
  let done = 0;
  for (const volume of volumes) {
    const outcome = await twoStageVolume(models, decodedVolume(volume), {
      batch,
      fusion: gate,
      ...(options.beforeBatch ? { beforeBatch: options.beforeBatch } : {}),
      ...(options.probabilities ? { keepProbabilities: true } : {}),
      ...(options.overlapStages ? { overlapStages: true } : {}),
      onClassified: (n) => options.onProgress?.(done + Math.floor(n / 2), total),
    });
    const predicted = volume.map((input, k): SlicePrediction => {
      const { width, height } = input.image;
      const base = {
        name: input.name,
        patient: input.patient,
        slice: input.sliceNumber,
        width,
        height,
        probability: outcome.probability[k]!,
        score: outcome.score[k]!,
        classifierCall: outcome.classifierCall[k]!,
      };
      if (!outcome.tumour[k]) {
        const none = options.probabilities ? { probabilities: null } : {};
        return { ...base, tumour: false, mask: null, areaPixels: 0, bbox: null, ...none };
      }
      // A copy either way: the volume's array is not kept alive by one slice's view.
      const atModel = outcome.final.slice(k * pixels, (k + 1) * pixels);
      const mask = resizeNearest(atModel, modelWidth, modelHeight, width, height);
      const { area, bbox } = maskExtent(mask, width, height);
      const map = outcome.probabilities?.[k];
      const probabilities = map
        ? { probabilities: resizeBilinear(map, modelWidth, modelHeight, 1, width, height).slice() }
        : {};
      return { ...base, tumour: true, mask, areaPixels: area, bbox, ...probabilities };
    });
    slices.push(...predicted);
    patients.push(summarise(volume[0]!.patient, predicted, outcome.volumeSteps));
    done += volume.length;
    options.onProgress?.(done, total);
  }
  return { slices, patients, gate };
}
