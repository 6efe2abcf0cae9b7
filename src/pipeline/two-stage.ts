// The two stages over decoded slices: stage 1 scores every slice; stage 2 segments the slices called positive
// (the others get an empty mask: the end-to-end output) and every ground-truth tumour slice (the segmenter
// alone), with the post-processing saved with the segmenter. The truth is the segmenter cache's mask, so masks
// are compared at the segmenter's input size. Slices are reduced to SliceRecords patient by patient.
import { cacheVolumeStats } from '../data/batch.ts';
import type { VolumeStats } from '../data/preprocess.ts';
import type { SliceCache } from '../data/slice-cache.ts';
import { type SliceRecord, toSliceRecord } from '../eval/slices.ts';
import { postprocessMask } from '../postprocess/apply.ts';
import type { TtaMode } from '../postprocess/config.ts';
import { threshold } from '../postprocess/threshold.ts';
import { classifierScores, segmenterProbabilities } from '../train/inference.ts';
import { progress } from '../train/progress.ts';
import type { LoadedClassifier, LoadedSegmenter } from './load-model.ts';

type Log = (line: string) => void;

/** Progress lines about ten times over a loop. */
const tenth = (total: number) => Math.max(1, Math.ceil(total / 10));

/** P(tumour) of each slice of `indices`, in order. */
export function classifySlices(
  classifier: LoadedClassifier,
  cache: SliceCache,
  indices: readonly number[],
  batch: number,
  log: Log,
): Float32Array {
  const scores = new Float32Array(indices.length);
  const volumeStats = cacheVolumeStats(cache, classifier.preprocess);
  const batches = Math.ceil(indices.length / batch);
  const bar = progress('classify (batches)', batches, log, tenth(batches));
  for (let start = 0; start < indices.length; start += batch) {
    const chunk = indices.slice(start, start + batch);
    const options = {
      cache,
      indices: chunk,
      preprocess: classifier.preprocess,
      volumeStats,
      batchSize: batch,
    };
    scores.set(classifierScores(classifier.model, options), start);
    bar.tick();
  }
  bar.stop();
  return scores;
}

/** The segmenter bound to its slice cache. */
export class Segmentation {
  readonly cache: SliceCache;
  readonly pixels: number;
  private readonly volumeStats: VolumeStats[] | undefined;

  constructor(
    readonly segmenter: LoadedSegmenter,
    cache: SliceCache,
    private readonly batch: number,
    /** Called before each inference batch (see InferenceInputs.beforeBatch). */
    private readonly beforeBatch?: () => void,
  ) {
    this.cache = cache;
    this.pixels = cache.width * cache.height;
    this.volumeStats = cacheVolumeStats(cache, segmenter.preprocess);
  }

  /** Tumour probability maps of the given cache slices, concatenated; TTA as saved with the model unless given. */
  probabilities(indices: readonly number[], tta: TtaMode = this.segmenter.postprocess.tta): Float32Array {
    if (indices.length === 0) return new Float32Array(0);
    return segmenterProbabilities(this.segmenter.model, {
      cache: this.cache,
      indices,
      preprocess: this.segmenter.preprocess,
      volumeStats: this.volumeStats,
      batchSize: this.batch,
      tta,
      ...(this.beforeBatch ? { beforeBatch: this.beforeBatch } : {}),
    });
  }

  trueMask(i: number): Uint8Array {
    return this.cache.masks!.subarray(i * this.pixels, (i + 1) * this.pixels);
  }

  hasTumour(i: number): boolean {
    return this.cache.tumourPixels[i]! > 0;
  }
}

/** A patient volume's two outputs, D×H×W in the volume's slice order. */
export interface VolumeOutputs {
  /** The segmenter alone: every slice, post-processed as one volume (meaningful on true tumour slices). */
  alone: Uint8Array;
  /** End to end: slices the classifier rejects emptied, then the volume post-processed. */
  final: Uint8Array;
}

/**
 * Both outputs of one patient. The post-processing saved with the segmenter runs on whole volumes (its largest
 * 3-D component needs every slice), after gating for the final output, as a deployed pipeline would: stage 1,
 * stage 2 on the slices it lets through, then post-processing. Only the slices an output can use are segmented
 * (all of them when the largest 3-D component is on, since the segmenter alone then needs the whole volume).
 */
export function segmentVolume(
  segmentation: Segmentation,
  volume: readonly number[],
  called: readonly boolean[],
): VolumeOutputs {
  const config = segmentation.segmenter.postprocess;
  const run = config.largest3DComponent
    ? volume
    : volume.filter((i, k) => called[k] || segmentation.hasTumour(i));
  const raw = thresholdedVolume(segmentation, volume, run);
  return {
    alone: postprocessVolume(segmentation, raw, volume.length),
    final: finalOf(segmentation, raw, called),
  };
}

/**
 * The final output alone (prediction, where there is no truth to compare the segmenter with): the same as
 * segmentVolume's `final`, segmenting only the slices stage 1 lets through, since gating empties the others.
 */
export function finalVolumeMask(
  segmentation: Segmentation,
  volume: readonly number[],
  called: readonly boolean[],
  /** Given the segmenter's probability maps of the slices it ran on (`run`, cache indices), concatenated. */
  onProbabilities?: (probabilities: Float32Array, run: readonly number[]) => void,
): Uint8Array {
  const raw = thresholdedVolume(
    segmentation,
    volume,
    volume.filter((_, k) => called[k]),
    onProbabilities,
  );
  return finalOf(segmentation, raw, called);
}

/** The volume's thresholded masks (D×H×W), segmented on the slices of `run` and empty on the others. */
function thresholdedVolume(
  segmentation: Segmentation,
  volume: readonly number[],
  run: readonly number[],
  onProbabilities?: (probabilities: Float32Array, run: readonly number[]) => void,
): Uint8Array {
  const { pixels } = segmentation;
  const probabilities = segmentation.probabilities(run);
  onProbabilities?.(probabilities, run);
  const runMasks = threshold(probabilities, segmentation.segmenter.postprocess.threshold);
  const position = new Map(volume.map((i, k) => [i, k]));
  const raw = new Uint8Array(volume.length * pixels);
  run.forEach((i, r) => {
    raw.set(runMasks.subarray(r * pixels, (r + 1) * pixels), position.get(i)! * pixels);
  });
  return raw;
}

/** Gating (slices stage 1 rejects emptied), then the post-processing. */
function finalOf(segmentation: Segmentation, raw: Uint8Array, called: readonly boolean[]): Uint8Array {
  const { pixels } = segmentation;
  const gated = raw.slice();
  called.forEach((c, k) => {
    if (!c) gated.fill(0, k * pixels, (k + 1) * pixels);
  });
  return postprocessVolume(segmentation, gated, called.length);
}

function postprocessVolume(segmentation: Segmentation, mask: Uint8Array, depth: number): Uint8Array {
  const { cache } = segmentation;
  return postprocessMask(mask, depth, cache.height, cache.width, segmentation.segmenter.postprocess);
}

/** The indices split into runs of one patient each (a cache holds each patient's slices contiguously). */
export function patientGroups(indices: readonly number[], cache: SliceCache): number[][] {
  const groups: number[][] = [];
  let previous = -1;
  for (const i of indices) {
    const patient = cache.patientIndex[i]!;
    if (patient !== previous || groups.length === 0) groups.push([]);
    groups[groups.length - 1]!.push(i);
    previous = patient;
  }
  return groups;
}

export interface PipelineRecords {
  /** One record per slice, in the order of the indices. */
  records: SliceRecord[];
  /** The final output of each true tumour slice (by cache index), for the report's gallery. */
  tumourFinalMasks: Map<number, Uint8Array>;
}

/**
 * Runs stage 2 patient by patient and reduces every slice to a SliceRecord at once; `scores[k]` is slice
 * `indices[k]`'s P(tumour). Only the final masks of true tumour slices are kept (the gallery shows those).
 */
export function pipelineRecords(
  segmentation: Segmentation,
  indices: readonly number[],
  scores: Float32Array,
  classifierThreshold: number,
  log: Log,
): PipelineRecords {
  const scoreOf = new Map(indices.map((i, k) => [i, scores[k]!]));
  const { pixels } = segmentation;
  const records: SliceRecord[] = [];
  const tumourFinalMasks = new Map<number, Uint8Array>();
  const volumes = patientGroups(indices, segmentation.cache);
  const bar = progress('segment (patients)', volumes.length, log, tenth(volumes.length));
  for (const volume of volumes) {
    const called = volume.map((i) => scoreOf.get(i)! >= classifierThreshold);
    const outputs = segmentVolume(segmentation, volume, called);
    volume.forEach((i, k) => {
      const slice = segmentation.cache.slices[i]!;
      const at = (mask: Uint8Array) => mask.subarray(k * pixels, (k + 1) * pixels);
      const tumour = segmentation.hasTumour(i);
      records.push(
        toSliceRecord({
          patient: slice.patientId,
          slice: slice.sliceNumber,
          score: scoreOf.get(i)!,
          trueMask: segmentation.trueMask(i),
          segmenterMask: tumour ? at(outputs.alone) : undefined,
          finalMask: at(outputs.final),
        }),
      );
      // A copy, so the map does not keep the whole volume alive.
      if (tumour) tumourFinalMasks.set(i, at(outputs.final).slice());
    });
    bar.tick();
  }
  bar.stop();
  return { records, tumourFinalMasks };
}
