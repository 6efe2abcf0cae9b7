// Choosing the post-processing on validation patients: every candidate of a small grid is scored by the mean
// Dice per patient volume (docs/METRICS.md: voxels of a patient pooled; a volume with neither true nor predicted
// tumour is left out), and the best one is kept together with the whole table, so that a report can show how
// each step moved Dice.
import { z } from 'zod';
import { dice, maskOverlap } from '../metrics/segmentation.ts';
import { mean } from '../metrics/stats.ts';
import { componentsOfAtLeast, labelSliceComponents } from './components-2d.ts';
import { keepLargest3DComponent } from './components-3d.ts';
import { type PostprocessConfig, stepsOn, type TtaMode } from './config.ts';
import { checkGrid } from './label-components.ts';
import { threshold } from './threshold.ts';

/** One validation patient: the segmenter's probabilities and the true mask, both D×H×W with slices in order. */
export interface ValidationVolume {
  probs: Float32Array;
  truth: Uint8Array;
  d: number;
  h: number;
  w: number;
}

export const postprocessGridSchema = z.strictObject({
  thresholds: z.array(z.number().min(0).max(1)).min(1),
  minComponentAreas: z.array(z.number().int().min(0)).min(1),
  largest3DComponent: z.array(z.boolean()).min(1),
});
export type PostprocessGrid = z.infer<typeof postprocessGridSchema>;

/** 5 × 4 × 2 = 40 candidates: few enough that choosing them cannot overfit a handful of validation patients. */
export const DEFAULT_POSTPROCESS_GRID: Readonly<PostprocessGrid> = Object.freeze({
  thresholds: [0.3, 0.4, 0.5, 0.6, 0.7],
  minComponentAreas: [0, 16, 64, 128],
  largest3DComponent: [false, true],
});

export interface CandidateScore {
  config: PostprocessConfig;
  /** Mean of perPatientDice over the volumes where it is defined. */
  meanPatientDice: number;
  /** Dice of each volume, in input order; NaN (null in JSON) for a volume with neither true nor predicted tumour. */
  perPatientDice: number[];
  /** Volumes whose Dice is defined (those the mean is over). */
  scoredPatients: number;
}

export interface PostprocessChoice {
  /** The best candidate's config: what goes into the model's config. */
  config: PostprocessConfig;
  meanPatientDice: number;
  /** Every candidate, in grid order (threshold, then minimum area, then largest-3D; 'none' before 'flips'). */
  candidates: CandidateScore[];
}

/** Scores within this of the best are ties (floating-point noise of a mean, not a real difference). */
export const DICE_TIE_TOLERANCE = 1e-12;

/**
 * Scores every candidate of `grid` on the volumes and returns the best with the table. `tta` says how the
 * probabilities were made; it is copied into every candidate. Ties: see pickBest.
 */
export function choosePostprocess(
  volumes: readonly ValidationVolume[],
  grid: PostprocessGrid = DEFAULT_POSTPROCESS_GRID,
  options: { tta?: TtaMode } = {},
): PostprocessChoice {
  const candidates = scoreCandidates(volumes, grid, options.tta ?? 'none');
  const best = pickBest(candidates);
  return { config: best.config, meanPatientDice: best.meanPatientDice, candidates };
}

/**
 * As choosePostprocess, also choosing between probabilities made without and with test-time augmentation:
 * `byTta` holds the same patients' volumes for each mode tried.
 */
export function choosePostprocessAndTta(
  byTta: Partial<Record<TtaMode, readonly ValidationVolume[]>>,
  grid: PostprocessGrid = DEFAULT_POSTPROCESS_GRID,
): PostprocessChoice {
  const modes = (['none', 'flips'] as const).filter((m) => byTta[m] !== undefined);
  if (modes.length === 0) throw new Error('choosePostprocessAndTta: no volumes given');
  const sizes = new Set(modes.map((m) => byTta[m]!.length));
  if (sizes.size > 1) throw new Error('choosePostprocessAndTta: each mode needs the same patients');
  const candidates = modes.flatMap((m) => scoreCandidates(byTta[m]!, grid, m));
  const best = pickBest(candidates);
  return { config: best.config, meanPatientDice: best.meanPatientDice, candidates };
}

function scoreCandidates(
  volumes: readonly ValidationVolume[],
  gridInput: PostprocessGrid,
  tta: TtaMode,
): CandidateScore[] {
  const grid = postprocessGridSchema.parse(gridInput);
  if (volumes.length === 0) throw new Error('choosePostprocess: no validation volumes');
  volumes.forEach((v, k) => {
    checkGrid(v.probs, v.d, v.h, v.w);
    if (v.truth.length !== v.probs.length) {
      throw new RangeError(
        `volume ${k}: truth has ${v.truth.length} voxels, probabilities ${v.probs.length}`,
      );
    }
  });
  // As chooseThresholdYouden refuses validation data without positives: with no true tumour anywhere the best
  // "segmentation" is to predict nothing, and every Dice is undefined or 0.
  if (!volumes.some((v) => v.truth.some((t) => t !== 0))) {
    throw new Error('choosePostprocess: no validation volume holds tumour');
  }

  const candidates: CandidateScore[] = [];
  for (const t of grid.thresholds)
    for (const minComponentArea of grid.minComponentAreas)
      for (const largest3DComponent of grid.largest3DComponent) {
        const config = { threshold: t, minComponentArea, largest3DComponent, tta };
        candidates.push({ config, meanPatientDice: Number.NaN, perPatientDice: [], scoredPatients: 0 });
      }

  // One volume at a time, each intermediate mask computed once and shared by the candidates that extend it.
  for (const v of volumes) {
    let c = 0;
    for (const t of grid.thresholds) {
      const thresholded = threshold(v.probs, t);
      const sliceComponents = grid.minComponentAreas.some((a) => a > 0)
        ? labelSliceComponents(thresholded, v.d, v.h, v.w)
        : null;
      for (const minArea of grid.minComponentAreas) {
        const afterArea = minArea > 0 ? componentsOfAtLeast(sliceComponents!, minArea) : thresholded;
        for (const largest of grid.largest3DComponent) {
          const predicted = largest ? keepLargest3DComponent(afterArea, v.d, v.h, v.w) : afterArea;
          candidates[c++]!.perPatientDice.push(dice(maskOverlap(v.truth, predicted)));
        }
      }
    }
  }
  for (const candidate of candidates) {
    const defined = candidate.perPatientDice.filter((x) => !Number.isNaN(x));
    candidate.scoredPatients = defined.length;
    candidate.meanPatientDice = mean(defined);
  }
  return candidates;
}

/**
 * The candidate with the highest mean Dice. Among ties (within DICE_TIE_TOLERANCE) the simplest: fewest steps on
 * (minimum area, largest 3-D component, TTA); then the threshold nearest 0.5; then the higher threshold (fewer
 * tumour calls, as the classifier's threshold rule); then no TTA (it costs four forward passes); then the
 * largest-3D step off; then the smaller minimum area. Every field of the config is compared, so the choice does
 * not depend on the order of the grid.
 */
export function pickBest(candidates: readonly CandidateScore[]): CandidateScore {
  const scored = candidates.filter((c) => !Number.isNaN(c.meanPatientDice));
  if (scored.length === 0) throw new Error('choosePostprocess: no candidate has a defined Dice');
  const top = Math.max(...scored.map((c) => c.meanPatientDice));
  const tied = scored.filter((c) => c.meanPatientDice >= top - DICE_TIE_TOLERANCE);
  return tied.reduce((best, c) => (simplerFirst(c.config, best.config) < 0 ? c : best));
}

function simplerFirst(a: PostprocessConfig, b: PostprocessConfig): number {
  return (
    stepsOn(a) - stepsOn(b) ||
    Math.abs(a.threshold - 0.5) - Math.abs(b.threshold - 0.5) ||
    b.threshold - a.threshold ||
    Number(a.tta !== 'none') - Number(b.tta !== 'none') ||
    Number(a.largest3DComponent) - Number(b.largest3DComponent) ||
    a.minComponentArea - b.minComponentArea
  );
}
