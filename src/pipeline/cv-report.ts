// The cross-validation's summary from its out-of-fold predictions: the stored outputs of every fold read back
// with the truth, every pipeline decision chosen (cv-analysis.ts), and the figures the field reports — slice
// classification (the classifier alone, as the reference design gates, and the two-stage detection: a slice is
// positive iff the final mask holds tumour) and Dice / IoU per patient volume — per fold, over all patients,
// and for each family of fusion rules so that they can be compared.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { scanDataset } from '../data/dataset-index.ts';
import { loadSlices } from '../data/slice-cache.ts';
import type { KFoldManifest } from '../data/split-manifest.ts';
import { buildRocJson } from '../eval/curves-json.ts';
import { type CvCurvesJson, type CvSummary, cvSummarySchema, type FoldProgress } from '../eval/cv-summary.ts';
import type { FoldTrainingLog } from '../eval/report/cv-html.ts';
import { binaryScores } from '../metrics/classification.ts';
import { type ConfusionCounts, confusionFromLabels } from '../metrics/confusion.ts';
import { rocAuc } from '../metrics/roc.ts';
import { mean, median, orNull } from '../metrics/stats.ts';
import { chooseThresholdYouden } from '../metrics/threshold.ts';
import type { TtaMode } from '../postprocess/config.ts';
import { sliceMaxima, sliceScores } from '../postprocess/fusion.ts';
import { CV_STAGES, type CvStage, foldDir, stageDir, stageFinished } from '../train/cross-validation.ts';
import {
  type AnalysisGrid,
  type Candidate,
  type CandidateTable,
  DEFAULT_ANALYSIS_GRID,
  nestedEstimate,
  type OofPatient,
  patientFigures,
  scoreCandidates,
} from './cv-analysis.ts';
import { readModelTrainingLog } from './model-training-log.ts';
import { hasOof, readClassifierOof, readSegmenterOof, readSegmenterProbs } from './out-of-fold.ts';
import { sourceCommit } from './provenance.ts';

export interface LoadOofOptions {
  data: string;
  cvDir: string;
  folds: number;
  skipBadFiles?: boolean;
  log: (line: string) => void;
}

/** Every patient of the folds whose two stages both have OOF outputs, with the truth decoded from --data. */
export async function loadOofPatients(o: LoadOofOptions): Promise<OofPatient[]> {
  const all = Array.from({ length: o.folds }, (_, f) => f);
  const both = all.filter((f) => hasOof(o.cvDir, f, 'classifier') && hasOof(o.cvDir, f, 'segmenter'));
  // Without any fold of both stages, the segmenter's folds alone still tell how to post-process its masks.
  const ready = both.length > 0 ? both : all.filter((f) => hasOof(o.cvDir, f, 'segmenter'));
  if (ready.length === 0)
    throw new Error(`${o.cvDir}: no fold has out-of-fold outputs yet (run 'tumorscope cv oof')`);
  const missing = all.filter((f) => !ready.includes(f));
  if (missing.length > 0) o.log(`folds left out (no OOF outputs of both stages): ${missing.join(', ')}`);
  const stored = ready.map((fold) => ({
    fold,
    classifier: both.length > 0 ? readClassifierOof(o.cvDir, fold) : null,
    segmenter: readSegmenterOof(o.cvDir, fold),
  }));
  const ids = new Set(stored.flatMap((s) => s.segmenter.patients.map((p) => p.id)));
  const { width, height } = stored[0]!.segmenter;
  const warn = (m: string) => o.log(`warning: ${m}`);
  const scanned = scanDataset(o.data, { skipBadFiles: o.skipBadFiles ?? false, warn });
  const index = { ...scanned, patients: scanned.patients.filter((p) => ids.has(p.id)) };
  const absent = [...ids].filter((id) => !index.patients.some((p) => p.id === id));
  if (absent.length > 0)
    throw new Error(`${scanned.source}: OOF patients not in the dataset: ${absent.slice(0, 3).join(', ')}`);
  const cache = await loadSlices(index, { width, height, skipBadFiles: o.skipBadFiles ?? false, warn });
  const px = width * height;
  const first = new Map<string, number>();
  cache.slices.forEach((s, i) => {
    if (!first.has(s.patientId)) first.set(s.patientId, i);
  });

  const patients: OofPatient[] = [];
  for (const { fold, classifier, segmenter } of stored) {
    if (segmenter.width !== width || segmenter.height !== height)
      throw new Error(
        `${foldDir(o.cvDir, fold)}: segmenter OOF at ${segmenter.width}×${segmenter.height}, others at ${width}×${height}`,
      );
    const scores = classifier ? new Map(classifier.patients.map((p) => [p.id, p])) : null;
    for (const p of segmenter.patients) {
      const c = scores?.get(p.id);
      const start = first.get(p.id)!;
      const d = p.slices.length;
      const numbers = cache.slices.slice(start, start + d).map((s) => s.sliceNumber);
      if ((scores && c?.slices.join() !== p.slices.join()) || numbers.join() !== p.slices.join())
        throw new Error(
          `${foldDir(o.cvDir, fold)}: ${p.id}: the stages' OOF outputs and the dataset disagree on the slices`,
        );
      const truth = cache.masks!.slice(start * px, (start + d) * px);
      if (!truth.some((v) => v !== 0)) {
        o.log(`${p.id}: no tumour in the truth, left out (Dice per volume is undefined)`);
        continue;
      }
      const probs: Partial<Record<TtaMode, Uint8Array>> = {};
      for (const tta of segmenter.tta) probs[tta] = readSegmenterProbs(o.cvDir, segmenter, p, tta);
      patients.push({
        id: p.id,
        fold,
        d,
        h: height,
        w: width,
        classifierP: c ? Float32Array.from(c.p) : undefined,
        probs,
        truth,
      });
    }
  }
  o.log(`OOF: ${patients.length} patients from folds ${ready.join(', ')}`);
  return patients;
}

const sliceLabels = (p: OofPatient) => {
  const px = p.h * p.w;
  return Array.from({ length: p.d }, (_, k) =>
    p.truth.subarray(k * px, (k + 1) * px).some((v) => v !== 0) ? 1 : 0,
  );
};

/** Accuracy, precision, recall, specificity and F1 of confusion counts; undefined ones as null (JSON). */
function rates(c: ConfusionCounts) {
  const s = binaryScores(c);
  return {
    accuracy: s.accuracy,
    precision: orNull(s.precision),
    recall: orNull(s.recall),
    specificity: orNull(s.specificity),
    f1: orNull(s.f1),
  };
}

/** Classification figures from scores, decisions and labels; the AUC is of the scores. */
function classification(scores: number[], decisions: number[], labels: number[], threshold: number) {
  return {
    ...rates(confusionFromLabels(decisions, labels)),
    auc: orNull(rocAuc(scores, labels)),
    threshold,
    confusion: confusionFromLabels(decisions, labels),
    slices: labels.length,
  };
}

/** A candidate's fused score of every slice of a patient (before any post-processing). */
function fusedSliceScores(patient: OofPatient, candidate: Candidate): Float32Array {
  const probs = patient.probs[candidate.segmenter.tta]!;
  return sliceScores(candidate.fusion, {
    classifier: patient.classifierP,
    segmenterMax: sliceMaxima(probs, patient.d, patient.h * patient.w, 1 / 255),
  });
}

/** The two-stage detection of a candidate on some patients: fused scores, and positive iff the final mask is not empty. */
function detection(table: CandidateTable, c: number, subset: readonly number[]) {
  const candidate = table.candidates[c]!;
  const scores: number[] = [];
  const decisions: number[] = [];
  const labels: number[] = [];
  for (const f of patientFigures(table, c, subset)) {
    const patient = table.patients.find((p) => p.id === f.id)!;
    scores.push(...fusedSliceScores(patient, candidate));
    decisions.push(...Array.from(f.slices.pred, (v) => (v > 0 ? 1 : 0)));
    labels.push(...sliceLabels(patient));
  }
  return classification(scores, decisions, labels, candidate.fusion.threshold);
}

/** The classifier alone at a threshold chosen (max Youden J) on `chooseOn`, scored on `subset`. */
function classifierAlone(
  patients: readonly OofPatient[],
  chooseOn: readonly number[],
  subset: readonly number[],
) {
  if (patients.some((p) => p.classifierP === undefined)) return null;
  const gather = (set: readonly number[]) => ({
    scores: set.flatMap((p) => Array.from(patients[p]!.classifierP!)),
    labels: set.flatMap((p) => sliceLabels(patients[p]!)),
  });
  const choose = gather(chooseOn);
  const { threshold } = chooseThresholdYouden(choose.scores, choose.labels);
  const { scores, labels } = gather(subset);
  return classification(
    scores,
    scores.map((s) => (s >= threshold ? 1 : 0)),
    labels,
    threshold,
  );
}

/** Candidates grouped into the families of fusion rules the report compares. */
export const FUSION_FAMILIES: Record<string, (c: Candidate) => boolean> = {
  'classifier gate (reference design)': (c) =>
    c.fusion.detector === 'classifier' && c.fusion.sliceRadius === 0 && c.fusion.threshold > 0,
  'classifier gate, smoothed along slices': (c) =>
    c.fusion.detector === 'classifier' && c.fusion.sliceRadius > 0,
  'segmenter alone (no gate)': (c) => c.fusion.threshold === 0,
  'segmenter max gate': (c) =>
    c.fusion.detector === 'segmenter' && c.fusion.sliceRadius === 0 && c.fusion.threshold > 0,
  'segmenter max gate, smoothed': (c) => c.fusion.detector === 'segmenter' && c.fusion.sliceRadius > 0,
  'mean of both': (c) => c.fusion.detector === 'mean' && c.fusion.sliceRadius === 0,
  'mean of both, smoothed': (c) => c.fusion.detector === 'mean' && c.fusion.sliceRadius > 0,
};

export interface CvReportOptions {
  grid?: AnalysisGrid;
  log: (line: string) => void;
}

/** cv-metrics.json: per fold, over all OOF patients, per fusion family, and the chosen configuration. */
export function cvMetrics(patients: readonly OofPatient[], o: CvReportOptions) {
  const table = scoreCandidates(patients, o.grid ?? DEFAULT_ANALYSIS_GRID, o.log);
  const all = patients.map((_, k) => k);
  const foldIds = [...new Set(patients.map((p) => p.fold))].sort((a, b) => a - b);
  if (foldIds.length < 2) throw new Error('the CV summary needs the OOF outputs of at least two folds');
  const inFold = (f: number) => all.filter((k) => patients[k]!.fold === f);
  const outsideFold = (f: number) => all.filter((k) => patients[k]!.fold !== f);

  const chosen = table.best(all);
  const figures = patientFigures(table, chosen, all);
  const nested = nestedEstimate(table);
  const summary = (dice: number[]) => ({ meanPatientDice: mean(dice), medianPatientDice: median(dice) });

  const folds = foldIds.map((fold) => {
    const n = nested.folds.find((f) => f.fold === fold)!;
    const c = table.candidates.indexOf(n.chosen);
    const d = detection(table, c, inFold(fold));
    const alone = classifierAlone(patients, outsideFold(fold), inFold(fold));
    return {
      fold,
      patients: inFold(fold).length,
      classification: { accuracy: d.accuracy, auc: d.auc, recall: d.recall, specificity: d.specificity },
      classifierAlone: alone && {
        accuracy: alone.accuracy,
        auc: alone.auc,
        recall: alone.recall,
        specificity: alone.specificity,
      },
      endToEnd: { meanPatientDice: n.meanPatientDice, medianPatientDice: n.medianPatientDice },
      chosenOnOtherFolds: n.chosen,
    };
  });

  const families = Object.entries(FUSION_FAMILIES).flatMap(([name, member]) => {
    const sub = table.filter(member);
    if (sub.candidates.length === 0) return [];
    const best = sub.best(all);
    return {
      family: name,
      chosenOnAll: { candidate: sub.candidates[best]!, ...summary(Array.from(sub.dice[best]!)) },
      nested: (({ meanPatientDice, medianPatientDice, meanPatientIoU }) => ({
        meanPatientDice,
        medianPatientDice,
        meanPatientIoU,
      }))(nestedEstimate(sub)),
    };
  });

  const twoStage = detection(table, chosen, all);
  const nestedDetection = foldIds.map((fold) => {
    const n = nested.folds.find((f) => f.fold === fold)!;
    return detection(table, table.candidates.indexOf(n.chosen), inFold(fold));
  });
  const pooled = pool(nestedDetection);
  return {
    about:
      'Out-of-fold predictions of a k-fold patient cross-validation. "nested": every decision made on the other folds and scored on the held fold (the estimate for new patients); "chosenOnAll": the shipped choice, made and scored on all OOF patients (optimistic).',
    commit: sourceCommit(),
    patients: patients.length,
    folds,
    oof: {
      classification: pooled,
      classifierAlone: classifierAlone(patients, all, all),
      endToEnd: {
        meanPatientDice: nested.meanPatientDice,
        medianPatientDice: nested.medianPatientDice,
        meanPatientIoU: nested.meanPatientIoU,
        perPatient: nested.perPatient,
      },
      chosenOnAll: {
        classification: twoStage,
        endToEnd: {
          meanPatientDice: mean(figures.map((f) => f.dice)),
          medianPatientDice: median(figures.map((f) => f.dice)),
          meanPatientIoU: mean(figures.map((f) => f.iou)),
        },
      },
    },
    families,
    config: table.candidates[chosen]!,
    candidatesScored: table.candidates.length,
  };
}

/** Pooled classification over folds from their confusion counts; AUC as the mean over folds. */
function pool(parts: ReturnType<typeof classification>[]) {
  const confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const p of parts) for (const k of ['tp', 'fp', 'tn', 'fn'] as const) confusion[k] += p.confusion[k];
  const aucs = parts.map((p) => p.auc).filter((a): a is number => a !== null);
  return {
    ...rates(confusion),
    auc: orNull(mean(aucs)),
    aucIs: 'mean of the folds\u2019 AUCs (each fold has its own fused score threshold)',
    threshold: parts.map((p) => p.threshold),
    confusion,
  };
}

export const cvMetricsPath = (cvDir: string) => join(cvDir, 'cv-metrics.json');
export const cvMetricsExists = (cvDir: string) => existsSync(cvMetricsPath(cvDir));

/** A run's cv-metrics.json, validated; it must cover exactly the OOF patients given (no stale summary). */
export function readCvMetrics(cvDir: string, patients: readonly OofPatient[]): CvSummary {
  const path = cvMetricsPath(cvDir);
  if (!existsSync(path))
    throw new Error(`${path}: no summary yet (run 'tumorscope cv report' without reusing it)`);
  const parsed = cvSummarySchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: not a cv-metrics.json: ${z.prettifyError(parsed.error)}`);
  const key = (ps: readonly { id: string; fold: number }[]) =>
    ps
      .map((p) => `${p.fold}:${p.id}`)
      .sort()
      .join();
  if (key(parsed.data.oof.endToEnd.perPatient) !== key(patients))
    throw new Error(
      `${path}: made from other OOF outputs (folds ${[...new Set(parsed.data.folds.map((f) => f.fold))].join(', ')}) than the run holds now; run 'tumorscope cv report' without reusing it`,
    );
  return parsed.data;
}

/** The OOF ROC curves: the classifier's P(tumour) pooled over folds, and the chosen configuration's fused score. */
export function cvCurves(patients: readonly OofPatient[], chosen: Candidate): CvCurvesJson {
  const labels = patients.flatMap(sliceLabels);
  const withClassifier = patients.every((p) => p.classifierP !== undefined);
  return {
    about:
      'ROC curves over every OOF slice: the classifier alone (each fold\u2019s classifier on its held-back patients) and the fused slice score of the configuration chosen on all OOF patients, before post-processing.',
    classifierAlone: withClassifier
      ? buildRocJson(
          patients.flatMap((p) => Array.from(p.classifierP!)),
          labels,
        )
      : null,
    twoStage: buildRocJson(
      patients.flatMap((p) => Array.from(fusedSliceScores(p, chosen))),
      labels,
    ),
  };
}

/** Every fold's training logs (of the stages that have one, finished or still running). */
export function cvTrainingLogs(
  cvDir: string,
  folds: number,
  warn: (line: string) => void,
): FoldTrainingLog[] {
  return Array.from({ length: folds }, (_, fold) =>
    CV_STAGES.flatMap((stage) => {
      const records = readModelTrainingLog(join(stageDir(cvDir, fold, stage), 'best'), warn);
      return records === undefined ? [] : [{ fold, stage, records }];
    }),
  ).flat();
}

/** How far every fold of the split has got: held-back patients, and per stage trained, epochs logged, OOF written. */
export function cvProgress(
  cvDir: string,
  manifest: KFoldManifest,
  logs: readonly FoldTrainingLog[],
): FoldProgress[] {
  return manifest.folds.map((f, fold) => {
    const stage = (name: CvStage) => ({
      finished: stageFinished(cvDir, fold, name),
      epochsLogged: new Set(
        logs.find((l) => l.fold === fold && l.stage === name)?.records.map((r) => r['epoch']) ?? [],
      ).size,
      oof: hasOof(cvDir, fold, name),
    });
    return {
      fold,
      heldOut: f.test.patients.length,
      segmenter: stage('segmenter'),
      classifier: stage('classifier'),
    };
  });
}
