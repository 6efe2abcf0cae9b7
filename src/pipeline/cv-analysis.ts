// Every decision of the two-stage pipeline made on out-of-fold (OOF) predictions: the segmenter's pixel threshold,
// small-component removal, TTA, the largest 3-D component, and which slices to segment (the fusion of the two
// stages: detector, slice-axis smoothing, threshold). Each candidate is scored by mean Dice per patient volume,
// end to end. Two figures come out: the choice made on all patients and scored on them (what ships, slightly
// optimistic), and the nested estimate — for each fold, the choice made on the other folds' patients and scored
// on that fold's — which is the honest figure for patients never seen.
import { dice, iou, type Overlap } from '../metrics/segmentation.ts';
import { mean, median } from '../metrics/stats.ts';
import type { TtaMode } from '../postprocess/config.ts';
import { callSlices, detectors, type FusionConfig, sliceMaxima } from '../postprocess/fusion.ts';
import { type SliceGraph, type SliceOutcome, sliceGraph, sliceOutcome } from '../postprocess/slice-graph.ts';

/** One patient's OOF outputs and truth, slices in order. Every patient holds tumour, so Dice is always defined. */
export interface OofPatient {
  id: string;
  fold: number;
  d: number;
  h: number;
  w: number;
  /** The classifier's P(tumour) per slice; absent while the folds' classifiers are still training. */
  classifierP?: Float32Array;
  /** Segmenter probability maps as bytes round(255·p), D×H×W, per TTA mode. */
  probs: Partial<Record<TtaMode, Uint8Array>>;
  /** 0/1 truth, D×H×W. */
  truth: Uint8Array;
}

/** The segmenter's part of a candidate: how probability maps become a mask. */
export interface SegmenterChoice {
  tta: TtaMode;
  threshold: number;
  minComponentArea: number;
}

export interface Candidate {
  segmenter: SegmenterChoice;
  fusion: FusionConfig;
  largest3DComponent: boolean;
}

export interface AnalysisGrid {
  tta: TtaMode[];
  pixelThresholds: number[];
  minComponentAreas: number[];
  sliceRadii: number[];
  detectionThresholds: number[];
}

/** Segmenter grid as the training's post-processing choice; detection thresholds every 0.05 (0 = no gating). */
export const DEFAULT_ANALYSIS_GRID: AnalysisGrid = {
  tta: ['none', 'flips'],
  pixelThresholds: [0.3, 0.4, 0.5, 0.6, 0.7],
  minComponentAreas: [0, 16, 64, 128],
  sliceRadii: [0, 1, 2],
  detectionThresholds: Array.from({ length: 20 }, (_, k) => Math.round(k * 5) / 100),
};

/** Every fusion config of the grid; threshold 0 (every slice called) once, since it ignores the detector. */
export function fusionGrid(grid: AnalysisGrid, withClassifier = true): FusionConfig[] {
  const out: FusionConfig[] = [{ detector: 'segmenter', sliceRadius: 0, threshold: 0 }];
  for (const detector of withClassifier ? detectors : (['segmenter'] as const))
    for (const sliceRadius of grid.sliceRadii)
      for (const threshold of grid.detectionThresholds)
        if (threshold > 0) out.push({ detector, sliceRadius, threshold });
  return out;
}

/** Bytes ≥ this are probabilities ≥ t (bytes hold round(255·p)). */
export const byteThreshold = (t: number) => Math.ceil(t * 255 - 1e-9);

interface PatientCombo {
  graph: SliceGraph;
  segmenterMax: Float32Array;
}

/** A candidate's per-patient outcome. */
export interface PatientOutcome {
  overlap: Overlap;
  slices: SliceOutcome;
}

/** Scores of every candidate for every patient (Dice per volume), and the means that choices are made on. */
export class CandidateTable {
  readonly candidates: Candidate[] = [];
  /** dice[c][p]: Dice of candidate c on patient p. */
  readonly dice: Float64Array[] = [];

  constructor(
    readonly patients: readonly OofPatient[],
    private readonly outcome: (c: Candidate, p: number) => PatientOutcome,
  ) {}

  /** The candidates that pass `keep`, with their scores (the same patients). */
  filter(keep: (c: Candidate) => boolean): CandidateTable {
    const sub = new CandidateTable(this.patients, this.outcome);
    this.candidates.forEach((c, k) => {
      if (keep(c)) sub.add(c, this.dice[k]!);
    });
    return sub;
  }

  add(c: Candidate, perPatient: Float64Array): void {
    this.candidates.push(c);
    this.dice.push(perPatient);
  }

  /** The candidate with the best mean Dice over `subset` (patient positions); the first of ties (simplest first). */
  best(subset: readonly number[]): number {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    this.dice.forEach((d, c) => {
      let sum = 0;
      for (const p of subset) sum += d[p]!;
      const score = sum / subset.length;
      if (score > bestScore + 1e-12) {
        best = c;
        bestScore = score;
      }
    });
    return best;
  }

  outcomeOf(c: number, p: number): PatientOutcome {
    return this.outcome(this.candidates[c]!, p);
  }
}

/**
 * Scores every candidate of the grid on every patient. The segmenter part is applied to the voxels once per
 * patient and combination; gating and the largest 3-D component are then exact graph operations (slice-graph.ts).
 */
export function scoreCandidates(
  patients: readonly OofPatient[],
  grid: AnalysisGrid = DEFAULT_ANALYSIS_GRID,
  log: (line: string) => void = () => {},
): CandidateTable {
  const stored = grid.tta.filter((m) => patients.every((p) => p.probs[m] !== undefined));
  if (stored.length === 0) throw new Error(`no patient has the segmenter's ${grid.tta.join(' or ')} outputs`);
  if (stored.length < grid.tta.length)
    log(`fusion analysis: TTA modes stored for every patient: ${stored.join(', ')}`);
  grid = { ...grid, tta: stored };
  const withClassifier = patients.every((p) => p.classifierP !== undefined);
  if (!withClassifier) log('fusion analysis: no classifier outputs for some patients; segmenter-only rules');
  const fusions = fusionGrid(grid, withClassifier);
  const truthVoxels = patients.map((p) => p.truth.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0));
  const combos: SegmenterChoice[] = [];
  for (const tta of grid.tta)
    for (const threshold of grid.pixelThresholds)
      for (const minComponentArea of grid.minComponentAreas)
        combos.push({ tta, threshold, minComponentArea });

  const comboCache = new Map<string, PatientCombo>();
  const key = (s: SegmenterChoice, p: number) => `${s.tta}|${s.threshold}|${s.minComponentArea}|${p}`;
  const patientCombo = (s: SegmenterChoice, p: number): PatientCombo => {
    const k = key(s, p);
    const hit = comboCache.get(k);
    if (hit) return hit;
    const patient = patients[p]!;
    const probs = patient.probs[s.tta];
    if (!probs) throw new Error(`${patient.id}: no '${s.tta}' probabilities`);
    const t = byteThreshold(s.threshold);
    const mask = new Uint8Array(probs.length);
    for (let i = 0; i < probs.length; i++) if (probs[i]! >= t) mask[i] = 1;
    const value: PatientCombo = {
      graph: sliceGraph(mask, patient.truth, patient.d, patient.h, patient.w, s.minComponentArea),
      segmenterMax: sliceMaxima(probs, patient.d, patient.h * patient.w, 1 / 255),
    };
    comboCache.set(k, value);
    return value;
  };
  const overlapOf = (slices: SliceOutcome, p: number): Overlap => {
    let predVoxels = 0;
    let intersection = 0;
    for (let k = 0; k < slices.pred.length; k++) {
      predVoxels += slices.pred[k]!;
      intersection += slices.hit[k]!;
    }
    return { predVoxels, intersection, trueVoxels: truthVoxels[p]! };
  };
  const outcome = (c: Candidate, p: number): PatientOutcome => {
    const combo = patientCombo(c.segmenter, p);
    const called = callSlices(c.fusion, {
      classifier: patients[p]!.classifierP,
      segmenterMax: combo.segmenterMax,
    });
    const slices = sliceOutcome(combo.graph, called, c.largest3DComponent);
    return { overlap: overlapOf(slices, p), slices };
  };
  const table = new CandidateTable(patients, outcome);

  // Per combination: all its patient graphs at once, then every fusion × largest-3-D over them.
  for (const [n, s] of combos.entries()) {
    const perPatient = patients.map((_, p) => patientCombo(s, p));
    for (const fusion of fusions) {
      for (const largest3DComponent of [false, true]) {
        const d = new Float64Array(patients.length);
        perPatient.forEach((combo, p) => {
          const called = callSlices(fusion, {
            classifier: patients[p]!.classifierP,
            segmenterMax: combo.segmenterMax,
          });
          d[p] = dice(overlapOf(sliceOutcome(combo.graph, called, largest3DComponent), p));
        });
        table.add({ segmenter: s, fusion, largest3DComponent }, d);
      }
    }
    log(`fusion analysis: segmenter combination ${n + 1}/${combos.length} (${JSON.stringify(s)})`);
  }
  return table;
}

/** Per-patient Dice and IoU of a chosen candidate, with its slices' outcomes. */
export function patientFigures(table: CandidateTable, c: number, subset: readonly number[]) {
  return subset.map((p) => {
    const { overlap, slices } = table.outcomeOf(c, p);
    const patient = table.patients[p]!;
    return { id: patient.id, fold: patient.fold, dice: dice(overlap), iou: iou(overlap), overlap, slices };
  });
}

export interface NestedEstimate {
  /** Per fold: the candidate chosen on the other folds and its figures on this fold. */
  folds: { fold: number; chosen: Candidate; meanPatientDice: number; medianPatientDice: number }[];
  /** Every patient scored by the choice made without its fold. */
  perPatient: { id: string; fold: number; dice: number; iou: number }[];
  meanPatientDice: number;
  medianPatientDice: number;
  meanPatientIoU: number;
}

/** For each fold, the candidate chosen on the other folds' patients and scored on this fold's. */
export function nestedEstimate(table: CandidateTable): NestedEstimate {
  const folds = [...new Set(table.patients.map((p) => p.fold))].sort((a, b) => a - b);
  const perPatient: NestedEstimate['perPatient'] = [];
  const byFold: NestedEstimate['folds'] = [];
  for (const fold of folds) {
    const inside = table.patients.flatMap((p, k) => (p.fold === fold ? [k] : []));
    const outside = table.patients.flatMap((p, k) => (p.fold !== fold ? [k] : []));
    const c = table.best(outside);
    const figures = patientFigures(table, c, inside).map(({ id, fold, dice, iou }) => ({
      id,
      fold,
      dice,
      iou,
    }));
    perPatient.push(...figures);
    byFold.push({
      fold,
      chosen: table.candidates[c]!,
      meanPatientDice: mean(figures.map((f) => f.dice)),
      medianPatientDice: median(figures.map((f) => f.dice)),
    });
  }
  return {
    folds: byFold,
    perPatient,
    meanPatientDice: mean(perPatient.map((f) => f.dice)),
    medianPatientDice: median(perPatient.map((f) => f.dice)),
    meanPatientIoU: mean(perPatient.map((f) => f.iou)),
  };
}
