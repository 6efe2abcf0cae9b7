// Cross-validation: the development patients dealt into k folds stratified by institution (one split.json for the
// whole run); per fold, both stages trained on the other folds, their validation patients (early stopping, best
// epoch, post-processing) taken from inside those folds, never from the held-back fold. Layout of a CV run:
//   <cv>/split.json                         the k-fold manifest
//   <cv>/fold-<k>/<stage>/                  an ordinary training run (log.jsonl, best.*, checkpoints)
//   <cv>/fold-<k>/<stage>/finished.json     written when that training has ended; the stage is then skipped
// Folds and stages are independent jobs: run them one after another or as parallel one-thread processes.
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanDataset } from '../data/dataset-index.ts';
import { splitDataset } from '../data/dataset-split.ts';
import { loadSlices } from '../data/slice-cache.ts';
import { type KFoldManifest, readSplitManifest, writeSplitManifest } from '../data/split-manifest.ts';
import { portablePaths, saveHalfPrecisionCopy, writeJsonAtomic } from '../engine/index.ts';
import { hasCheckpoint } from './checkpoint.ts';
import { CLASSIFIER_DEFAULTS, type ClassifierTrainOptions, trainClassifier } from './classifier.ts';
import type { FitResult } from './fit.ts';
import { SEGMENTER_DEFAULTS, type SegmenterTrainOptions, trainSegmenter } from './segmenter.ts';

export const CV_STAGES = ['segmenter', 'classifier'] as const;
export type CvStage = (typeof CV_STAGES)[number];

export const cvSplitPath = (cvDir: string) => join(cvDir, 'split.json');
export const foldDir = (cvDir: string, fold: number) => join(cvDir, `fold-${fold}`);
export const stageDir = (cvDir: string, fold: number, stage: CvStage) => join(foldDir(cvDir, fold), stage);
const finishedPath = (cvDir: string, fold: number, stage: CvStage) =>
  join(stageDir(cvDir, fold, stage), 'finished.json');

export function stageFinished(cvDir: string, fold: number, stage: CvStage): boolean {
  return existsSync(finishedPath(cvDir, fold, stage));
}

/**
 * The recipe every fold trains with, unless the command line changes it: the shipped models' recipes (ResUNet at
 * 256 px for 20 epochs, DenseNet121 at 128 px), the classifier for 12 epochs instead of 20 — its cosine schedule
 * then anneals fully — so that a fold's two stages fit in about two hours of one core.
 */
export const CV_RECIPE = {
  segmenter: { ...SEGMENTER_DEFAULTS, epochs: 20, patience: 20 },
  classifier: { ...CLASSIFIER_DEFAULTS, size: 128, epochs: 12 },
};

export interface CvSplitOptions {
  data: string;
  cvDir: string;
  folds: number;
  seed: number;
  /** Share of each fold's training patients kept for validation inside the training folds. */
  valFraction: number;
  skipBadFiles?: boolean;
  log: (line: string) => void;
}

/** The run's k-fold manifest: read when it exists (and checked against the request), else made and saved. */
export async function ensureCvSplit(o: CvSplitOptions): Promise<KFoldManifest> {
  const path = cvSplitPath(o.cvDir);
  if (existsSync(path)) {
    const m = readSplitManifest(path);
    if (m.kind !== 'k-fold' || m.k !== o.folds || m.seed !== o.seed || m.valFraction !== o.valFraction)
      throw new Error(
        `${path}: this CV run was split differently (${m.kind === 'k-fold' ? `${m.k} folds, seed ${m.seed}, validation ${m.valFraction}` : m.kind}); use another --out or the same options`,
      );
    return m;
  }
  const warn = (m: string) => o.log(`warning: ${m}`);
  const index = scanDataset(o.data, { skipBadFiles: o.skipBadFiles ?? false, warn });
  // Full size, so that every tumour slice counts as one when folds are balanced.
  const cache = await loadSlices(index, {
    width: 256,
    height: 256,
    skipBadFiles: o.skipBadFiles ?? false,
    warn,
  });
  const manifest = splitDataset(index, cache, {
    mode: 'k-fold',
    k: o.folds,
    seed: o.seed,
    valFraction: o.valFraction,
  });
  if (manifest.kind !== 'k-fold') throw new Error('k-fold split expected');
  mkdirSync(o.cvDir, { recursive: true });
  writeSplitManifest(path, manifest);
  o.log(`split: ${cache.patients.length} patients in ${o.folds} folds -> ${path}`);
  return manifest;
}

type Recipe<T> = Omit<T, 'data' | 'split' | 'fold' | 'out' | 'resume' | 'command' | 'log'>;

export interface TrainFoldOptions {
  data: string;
  cvDir: string;
  fold: number;
  stage: CvStage;
  segmenter: Recipe<SegmenterTrainOptions>;
  classifier: Recipe<ClassifierTrainOptions>;
  skipBadFiles?: boolean;
  command: string;
  log: (line: string) => void;
}

/**
 * Trains one stage of one fold (continuing from its last checkpoint if it has one) and marks it finished; a
 * finished stage is left alone and returns null.
 */
export async function trainFold(o: TrainFoldOptions): Promise<FitResult | null> {
  if (stageFinished(o.cvDir, o.fold, o.stage)) {
    o.log(`fold ${o.fold} ${o.stage}: finished already (${finishedPath(o.cvDir, o.fold, o.stage)})`);
    return null;
  }
  const out = stageDir(o.cvDir, o.fold, o.stage);
  const common = {
    data: o.data,
    split: cvSplitPath(o.cvDir),
    fold: o.fold,
    out,
    resume: hasCheckpoint(out),
    skipBadFiles: o.skipBadFiles,
    command: o.command,
    log: (line: string) => o.log(`fold ${o.fold} ${o.stage}: ${line}`),
  };
  const started = performance.now();
  const result =
    o.stage === 'segmenter'
      ? await trainSegmenter({ ...o.segmenter, ...common })
      : await trainClassifier({ ...o.classifier, ...common });
  writeJsonAtomic(finishedPath(o.cvDir, o.fold, o.stage), {
    fold: o.fold,
    stage: o.stage,
    bestEpoch: result.bestEpoch,
    bestScore: result.bestScore,
    epochsRun: result.epochsRun,
    stoppedEarly: result.stoppedEarly,
    // Wall time of this process only: a resumed run's earlier epochs are in log.jsonl's seconds.
    secondsThisProcess: Math.round((performance.now() - started) / 1000),
  });
  return {
    bestEpoch: result.bestEpoch,
    bestScore: result.bestScore,
    epochsRun: result.epochsRun,
    stoppedEarly: result.stoppedEarly,
  };
}

/** Reads a finished stage's summary (null while it is still training). */
export function readFinished(cvDir: string, fold: number, stage: CvStage): Record<string, unknown> | null {
  const path = finishedPath(cvDir, fold, stage);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : null;
}

/** The repository's root folder: what the copies' paths are made relative to. */
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A text file copied with this machine's absolute paths made portable: the copies are committed. */
function copyPortable(from: string, to: string): void {
  writeFileSync(to, portablePaths(readFileSync(from, 'utf8'), REPO_ROOT));
}

/**
 * Copies what a CV run must keep into `dest` (e.g. models/cv, committed), so that a machine reset loses nothing
 * that took hours: the split, the summary and its report, and per finished stage its best model (weights as float16: half the
 * size, see the test that compares predictions), config, training log, post-processing table and out-of-fold
 * outputs. Per-epoch checkpoints stay behind: they only serve --resume. Returns the stages copied.
 */
export function collectCv(cvDir: string, dest: string, folds: number): string[] {
  mkdirSync(dest, { recursive: true });
  copyPortable(cvSplitPath(cvDir), cvSplitPath(dest));
  // The summary and its report (the report's figures are inline; figures/ stays behind).
  for (const f of ['cv-metrics.json', 'cv-curves.json', 'report.html'])
    if (existsSync(join(cvDir, f)))
      (f.endsWith('.json') ? copyPortable : copyFileSync)(join(cvDir, f), join(dest, f));
  const copied: string[] = [];
  for (let fold = 0; fold < folds; fold++) {
    for (const stage of CV_STAGES) {
      if (!stageFinished(cvDir, fold, stage)) continue;
      const from = stageDir(cvDir, fold, stage);
      const to = stageDir(dest, fold, stage);
      mkdirSync(to, { recursive: true });
      for (const f of ['best.json', 'log.jsonl', 'finished.json', 'postprocess-choice.json', 'split.json'])
        if (existsSync(join(from, f))) copyPortable(join(from, f), join(to, f));
      saveHalfPrecisionCopy(join(from, 'best.safetensors'), join(to, 'best.safetensors'));
      const oof = join(foldDir(cvDir, fold), 'oof');
      if (existsSync(join(oof, `${stage}.json`))) {
        mkdirSync(join(foldDir(dest, fold), 'oof'), { recursive: true });
        copyPortable(join(oof, `${stage}.json`), join(foldDir(dest, fold), 'oof', `${stage}.json`));
        if (stage === 'segmenter')
          cpSync(join(oof, 'segmenter'), join(foldDir(dest, fold), 'oof', 'segmenter'), { recursive: true });
      }
      copied.push(`fold ${fold} ${stage}`);
    }
  }
  return copied;
}
