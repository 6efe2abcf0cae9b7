// How each post-processing step moves the segmenter's scores on the evaluated patients: the raw output (0.5
// threshold), then each step of the saved post-processing switched on in turn, in the order the pipeline applies
// them (threshold, small components, largest 3-D component; TTA last, since it changes the probabilities). The
// steps were chosen on validation patients; this only reports what they do on the evaluated ones, never chooses.
// Scored as the segmenter alone over every slice of each volume (not gated by the classifier), like the choice.
import { dice, iou, maskOverlap, sumOverlaps } from '../metrics/segmentation.ts';
import { mean, median } from '../metrics/stats.ts';
import { applyPostprocess } from '../postprocess/apply.ts';
import { NO_POSTPROCESS, type PostprocessConfig, type TtaMode } from '../postprocess/config.ts';
import type { Segmentation } from './evaluation-volumes.ts';

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

/** One patient's probability maps under each TTA mode the chain needs, and its true masks. */
interface Volume {
  probs: Map<TtaMode, Float32Array>;
  truth: Uint8Array;
}

/** Scores every row of postprocessChain(segmenter's config) on `volumes` (cache indices, one array per patient). */
export function postprocessSteps(
  segmentation: Segmentation,
  volumes: readonly (readonly number[])[],
): PostprocessStep[] {
  const chain = postprocessChain(segmentation.segmenter.postprocess);
  const modes = [...new Set(chain.map((c) => c.config.tta))];
  const { cache, pixels } = segmentation;
  const data: Volume[] = volumes.map((indices) => {
    const probs = new Map<TtaMode, Float32Array>();
    for (const tta of modes) {
      probs.set(tta, segmentation.probabilities(indices, tta));
    }
    const truth = new Uint8Array(indices.length * pixels);
    indices.forEach((i, k) => {
      truth.set(segmentation.trueMask(i), k * pixels);
    });
    return { probs, truth };
  });
  return chain.map(({ step, config }) => {
    const patientDice: number[] = [];
    const sliceDice: number[] = [];
    const sliceIoU: number[] = [];
    for (const v of data) {
      const d = v.truth.length / pixels;
      const mask = applyPostprocess(v.probs.get(config.tta)!, d, cache.height, cache.width, config);
      const overlaps = Array.from({ length: d }, (_, k) =>
        maskOverlap(
          v.truth.subarray(k * pixels, (k + 1) * pixels),
          mask.subarray(k * pixels, (k + 1) * pixels),
        ),
      );
      const volumeDice = dice(sumOverlaps(overlaps));
      if (!Number.isNaN(volumeDice)) patientDice.push(volumeDice);
      for (const o of overlaps) {
        if (o.trueVoxels === 0) continue;
        sliceDice.push(dice(o));
        sliceIoU.push(iou(o));
      }
    }
    return {
      step,
      config,
      meanPatientDice: mean(patientDice),
      medianPatientDice: median(patientDice),
      meanSliceDice: mean(sliceDice),
      meanSliceIoU: mean(sliceIoU),
    };
  });
}
