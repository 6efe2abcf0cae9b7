// How each post-processing step moves the segmenter's scores on the evaluated patients: the raw output (0.5
// threshold), then each step of the saved post-processing switched on in turn, in the order the pipeline applies
// them (threshold, small components, largest 3-D component; TTA last, since it changes the probabilities). The
// steps were chosen on validation patients; this only reports what they do on the evaluated ones, never chooses.
// Scored as the segmenter alone over every slice of each volume (not gated by the classifier), like the choice.
import { patientVolumes } from '../data/group-by-patient.ts';
import type { SliceCache } from '../data/slice-cache.ts';
import { progress } from '../inference/progress.ts';
import { type SegmenterRunner, segmentSlices } from '../inference/two-stage.ts';
import { maskOverlap, type Overlap, segmentationScores } from '../metrics/segmentation.ts';
import { applyPostprocess } from '../postprocess/apply.ts';
import { NO_POSTPROCESS, type PostprocessConfig, type TtaMode } from '../postprocess/config.ts';
import { sizeKey } from './evaluation-data.ts';
import { cacheVolume, trueMask } from './evaluation-volumes.ts';

export interface PostprocessStep {
  /** What this row adds to the one before, e.g. 'threshold 0.40'. */
  step: string;
  config: PostprocessConfig;
  /** Dice per patient volume, segmenter alone on every slice; volumes with neither true nor predicted tumour left out. */
  meanPatientDice: number;
  medianPatientDice: number;
  /** Over slices with true tumour. */
  meanSliceDice: number;
  meanSliceIoU: number;
}

/** The chain of configs from the raw output to `target`, one step switched on per row. */
export function postprocessChain(target: PostprocessConfig): { step: string; config: PostprocessConfig }[] {
  const chain = [{ step: 'raw output (threshold 0.5)', config: { ...NO_POSTPROCESS } }];
  const last = () => chain[chain.length - 1]!.config;
  if (target.threshold !== NO_POSTPROCESS.threshold) {
    chain.push({ step: `threshold ${target.threshold}`, config: { ...last(), threshold: target.threshold } });
  }
  if (target.minComponentArea > 0) {
    chain.push({
      step: `remove 2-D components < ${target.minComponentArea} px`,
      config: { ...last(), minComponentArea: target.minComponentArea },
    });
  }
  if (target.largest3DComponent) {
    chain.push({ step: 'keep the largest 3-D component', config: { ...last(), largest3DComponent: true } });
  }
  if (target.tta !== 'none') {
    chain.push({ step: `test-time augmentation (${target.tta})`, config: { ...last(), tta: target.tta } });
  }
  return chain;
}

export interface PostprocessStepOptions {
  batch: number;
  log: (line: string) => void;
}

/**
 * Scores every row of postprocessChain(segmenter's config) on the slices `indices` of the caches, patient by
 * patient: the segmenter runs once per TTA mode the chain needs on every slice, then each row post-processes
 * those maps. Shows its progress per patient (a segmenter pass over every slice takes minutes).
 */
export async function postprocessSteps(
  segmenter: SegmenterRunner,
  caches: ReadonlyMap<string, SliceCache>,
  indices: readonly number[],
  o: PostprocessStepOptions,
): Promise<PostprocessStep[]> {
  const chain = postprocessChain(segmenter.postprocess);
  const modes = [...new Set(chain.map((c) => c.config.tta))];
  const { width, height } = segmenter.preprocess;
  const cache = caches.get(sizeKey({ width, height }))!;
  const volumes = patientVolumes(indices, cache);
  // Per row, per patient: the overlaps of its slices with the truth.
  const overlaps: Overlap[][][] = chain.map(() => []);
  const bar = progress(
    `post-processing steps (patients, ${modes.length} segmenter pass${modes.length > 1 ? 'es' : ''})`,
    volumes.length,
    o.log,
    1,
  );
  for (const volume of volumes) {
    const images = cacheVolume(caches, volume);
    const all = volume.map((_, k) => k);
    const probs = new Map<TtaMode, Float32Array>();
    for (const tta of modes)
      probs.set(tta, await segmentSlices(segmenter, images, all, { batch: o.batch, tta }));
    const d = volume.length;
    const pixels = width * height;
    chain.forEach(({ config }, row) => {
      const mask = applyPostprocess(probs.get(config.tta)!, d, height, width, config);
      overlaps[row]!.push(
        volume.map((i, k) => maskOverlap(trueMask(cache, i), mask.subarray(k * pixels, (k + 1) * pixels))),
      );
    });
    bar.tick();
  }
  bar.stop();
  return chain.map(({ step, config }, row) => {
    const scores = segmentationScores(overlaps[row]!);
    return {
      step,
      config,
      meanPatientDice: scores.meanPatientDice,
      medianPatientDice: scores.medianPatientDice,
      meanSliceDice: scores.meanSliceDice,
      meanSliceIoU: scores.meanSliceIoU,
    };
  });
}
