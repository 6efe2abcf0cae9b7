// The two stages run in the page (in-browser inference), with the server's semantics (src/pipeline/predict.ts):
// slices placed by name, grouped into patient volumes, resized bilinearly to each model's input, preprocessed
// as the model's metadata says (per-volume statistics included), stage 1 scores every slice, stage 2 segments
// the slices it calls tumour (flip TTA when the segmenter was saved with it), the masks are thresholded, gated
// and post-processed per volume, then resized back to each slice's size. The arithmetic is the project's own
// (src/data, src/postprocess); only the networks run elsewhere, through `RunModel` (onnxruntime-web in the
// page), so this module is pure and runs in Node too.
import { type DecodedImage, resizeBilinear, resizeNearest, toRgb } from '../../src/data/image.ts';
import {
  type PreprocessConfig,
  preprocessSlice,
  type VolumeStats,
  volumeStats,
} from '../../src/data/preprocess.ts';
import { groupVolumes, placeSlices as placeSliceNames } from '../../src/data/slice-names.ts';
import { type BoundingBox, maskExtent } from '../../src/metrics/mask-extent.ts';
import { postprocessMask } from '../../src/postprocess/apply.ts';
import type { PostprocessConfig } from '../../src/postprocess/config.ts';
import { threshold } from '../../src/postprocess/threshold.ts';
import type { PatientSummary } from './api-types.ts';

export interface LocalSlice {
  /** The file name (path inside a zip included). */
  name: string;
  image: DecodedImage;
}

/** A network: preprocessed slices [n, 3, H, W] in, its output (flattened, batch first) out. */
export type RunModel = (input: Float32Array, n: number) => Promise<Float32Array>;

export interface LocalClassifier {
  preprocess: PreprocessConfig;
  /** P(tumour) >= threshold calls a slice tumour. */
  threshold: number;
  /** The column of the output that holds P(tumour). */
  tumourIndex: number;
  run: RunModel;
}

export interface LocalSegmenter {
  preprocess: PreprocessConfig;
  postprocess: PostprocessConfig;
  run: RunModel;
}

export interface LocalSlicePrediction {
  name: string;
  patient: string;
  slice: number;
  width: number;
  height: number;
  probability: number;
  tumour: boolean;
  /** 0/1 at the slice's size; null where the classifier said no tumour. */
  mask: Uint8Array | null;
  areaPixels: number;
  bbox: BoundingBox | null;
  image: DecodedImage;
}

export interface LocalPrediction {
  slices: LocalSlicePrediction[];
  patients: PatientSummary[];
}

// ---- naming: the server's own (src/data/slice-names.ts) ----------------------------------------------------

/** Patient and slice number of each name, as the server places them; a ground-truth mask is refused. */
export function placeSlices(names: readonly string[]): { patient: string; sliceNumber: number }[] {
  return placeSliceNames(names, {
    maskError: (name) => new Error(`${name}: a ground-truth mask (…_mask), not a slice to predict`),
  });
}

interface Placed extends LocalSlice {
  /** The name without folders, as the server reports it. */
  shownName: string;
  patient: string;
  sliceNumber: number;
}

function volumesOf(slices: readonly LocalSlice[]): Placed[][] {
  const places = placeSlices(slices.map((s) => s.name));
  const placed = slices.map((slice, k) => ({
    ...slice,
    ...places[k]!,
    shownName: slice.name.split(/[\\/]/).pop() || slice.name,
  }));
  return groupVolumes(placed, (s) => s.shownName);
}

// ---- arrays -------------------------------------------------------------------------------------------------

/** Planes of H×W (n × channels of them, planar) mirrored left–right and/or up–down; its own inverse. */
export function flipPlanes(
  data: Float32Array,
  height: number,
  width: number,
  horizontal: boolean,
  vertical: boolean,
): Float32Array {
  if (!horizontal && !vertical) return data;
  const out = new Float32Array(data.length);
  const plane = height * width;
  for (let p = 0; p < data.length; p += plane) {
    for (let y = 0; y < height; y++) {
      const sy = vertical ? height - 1 - y : y;
      for (let x = 0; x < width; x++) {
        const sx = horizontal ? width - 1 - x : x;
        out[p + y * width + x] = data[p + sy * width + sx]!;
      }
    }
  }
  return out;
}

/** The volume's slices as RGB bytes at the model's input size, one after another. */
function resized(volume: readonly Placed[], config: PreprocessConfig): Uint8Array {
  const pixels = config.width * config.height * 3;
  const out = new Uint8Array(volume.length * pixels);
  volume.forEach((s, k) => {
    const rgb = toRgb(s.image);
    out.set(resizeBilinear(rgb.data, rgb.width, rgb.height, 3, config.width, config.height), k * pixels);
  });
  return out;
}

/** Preprocessed network input [n, 3, H, W] of the volume's slices `indices`. */
function networkInput(
  images: Uint8Array,
  indices: readonly number[],
  config: PreprocessConfig,
  stats: VolumeStats | undefined,
): Float32Array {
  const pixels = config.width * config.height * 3;
  const out = new Float32Array(indices.length * pixels);
  indices.forEach((i, k) => {
    out.set(
      preprocessSlice(images.subarray(i * pixels, (i + 1) * pixels), config.intensity, stats),
      k * pixels,
    );
  });
  return out;
}

const statsOf = (images: Uint8Array, config: PreprocessConfig) =>
  config.intensity.kind === 'volume-zscore' ? volumeStats(images, config.intensity) : undefined;

const FLIPS = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/** Mean sigmoid probability maps [n, H, W] of the segmenter, over the flips when its TTA says so. */
async function segmenterProbabilities(
  segmenter: LocalSegmenter,
  input: Float32Array,
  n: number,
): Promise<Float32Array> {
  const { width, height } = segmenter.preprocess;
  const flips = segmenter.postprocess.tta === 'flips' ? FLIPS : FLIPS.slice(0, 1);
  let sum: Float32Array | undefined;
  for (const [horizontal, vertical] of flips) {
    const output = await segmenter.run(flipPlanes(input, height, width, horizontal, vertical), n);
    if (output.length !== n * height * width)
      throw new Error(`the segmenter returned ${output.length} values for ${n} slices of ${width}×${height}`);
    const probs = flipPlanes(output, height, width, horizontal, vertical);
    if (!sum) sum = Float32Array.from(probs);
    else for (let i = 0; i < sum.length; i++) sum[i]! += probs[i]!;
  }
  if (flips.length > 1) for (let i = 0; i < sum!.length; i++) sum![i]! /= flips.length;
  return sum!;
}

// ---- the two stages -----------------------------------------------------------------------------------------

export async function predictLocally(
  slices: readonly LocalSlice[],
  models: { classifier: LocalClassifier; segmenter: LocalSegmenter },
  batch = 8,
): Promise<LocalPrediction> {
  const { classifier, segmenter } = models;
  const out: LocalPrediction = { slices: [], patients: [] };
  for (const volume of volumesOf(slices)) {
    const c = classifier.preprocess;
    const s = segmenter.preprocess;
    const small = resized(volume, c);
    const large = c.width === s.width && c.height === s.height ? small : resized(volume, s);
    const indices = volume.map((_, k) => k);

    // Stage 1 on every slice.
    const classifierStats = statsOf(small, c);
    const scores = new Float32Array(volume.length);
    for (let start = 0; start < volume.length; start += batch) {
      const chunk = indices.slice(start, start + batch);
      const output = await classifier.run(networkInput(small, chunk, c, classifierStats), chunk.length);
      const classes = output.length / chunk.length;
      chunk.forEach((i, k) => {
        scores[i] = output[k * classes + classifier.tumourIndex]!;
      });
    }
    const called = Array.from(scores, (p) => p >= classifier.threshold);

    // Stage 2 on the slices stage 1 lets through; the others stay empty (gating).
    const pixels = s.width * s.height;
    const raw = new Uint8Array(volume.length * pixels);
    const run = indices.filter((i) => called[i]);
    const segmenterStats = statsOf(large, s);
    for (let start = 0; start < run.length; start += batch) {
      const chunk = run.slice(start, start + batch);
      const probs = await segmenterProbabilities(
        segmenter,
        networkInput(large, chunk, s, segmenterStats),
        chunk.length,
      );
      const masks = threshold(probs, segmenter.postprocess.threshold);
      chunk.forEach((i, k) => {
        raw.set(masks.subarray(k * pixels, (k + 1) * pixels), i * pixels);
      });
    }
    const final = postprocessMask(raw, volume.length, s.height, s.width, segmenter.postprocess);

    const predicted = volume.map((slice, k): LocalSlicePrediction => {
      const { width, height } = slice.image;
      const base = {
        name: slice.shownName,
        patient: slice.patient,
        slice: slice.sliceNumber,
        width,
        height,
        probability: scores[k]!,
        image: slice.image,
      };
      if (!called[k]) return { ...base, tumour: false, mask: null, areaPixels: 0, bbox: null };
      const atModel = final.slice(k * pixels, (k + 1) * pixels);
      const mask = resizeNearest(atModel, s.width, s.height, width, height);
      const { area, bbox } = maskExtent(mask, width, height);
      return { ...base, tumour: true, mask, areaPixels: area, bbox };
    });
    const positive = predicted.filter((p) => p.tumour);
    out.slices.push(...predicted);
    out.patients.push({
      patient: volume[0]!.patient,
      slices: predicted.length,
      positiveSlices: positive.length,
      firstPositiveSlice: positive[0]?.slice ?? null,
      lastPositiveSlice: positive[positive.length - 1]?.slice ?? null,
      volumeVoxels: predicted.reduce((sum, p) => sum + p.areaPixels, 0),
    });
  }
  return out;
}
