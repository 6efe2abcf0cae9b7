// What both training commands do first: index the dataset, decode every slice into memory at the model's size,
// and take (or make, and save beside the run) a patient-level split.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DatasetIndex, scanDataset } from '../data/dataset-index.ts';
import { type SplitRequest, sliceIndicesOf, splitDataset } from '../data/dataset-split.ts';
import { loadSlices, type SliceCache } from '../data/slice-cache.ts';
import type { SplitFractions } from '../data/split.ts';
import {
  readSplitManifest,
  type SplitManifest,
  trainingPatients,
  writeSplitManifest,
} from '../data/split-manifest.ts';
import { DEFAULT_TRAINING_PRECISION, type TrainingPrecision } from '../models/training.ts';

export interface TrainingDataOptions {
  data: string;
  /** A split manifest to follow; without it a patient split is made with `fractions` and `seed`. */
  split?: string;
  fold?: number;
  fractions?: SplitFractions;
  /** The reference design's slice-level split (leaks patients): only for comparison. */
  sliceLevel?: boolean;
  seed: number;
  size: number;
  runDir: string;
  /** Whether to save the split made here as runDir/split.json (data-parallel: rank 0 only). Default true. */
  writeSplit?: boolean;
  skipBadFiles?: boolean;
  log: (line: string) => void;
}

export interface TrainingData {
  index: DatasetIndex;
  cache: SliceCache;
  manifest: SplitManifest;
  manifestPath: string;
  train: number[];
  val: number[];
  test: number[];
}

/**
 * What both stages record of their training run in the model's config: the command, the split it followed and
 * the patients it learnt from (so an evaluation on them can say so wherever the split file is), and the settings
 * both share; each stage adds its own.
 */
export function trainingProvenance(
  data: Pick<TrainingData, 'manifest' | 'manifestPath'>,
  o: {
    command: string;
    fold?: number;
    seed: number;
    epochs: number;
    batch: number;
    lr: number;
    precision?: TrainingPrecision;
  },
) {
  return {
    command: o.command,
    split: data.manifestPath,
    fold: o.fold ?? null,
    patients: trainingPatients(data.manifest, o.fold ?? 0),
    seed: o.seed,
    epochs: o.epochs,
    batch: o.batch,
    lr: o.lr,
    precision: o.precision ?? DEFAULT_TRAINING_PRECISION,
  };
}

export const DEFAULT_FRACTIONS: SplitFractions = { train: 0.7, val: 0.15, test: 0.15 };

export async function prepareTrainingData(o: TrainingDataOptions): Promise<TrainingData> {
  const warn = (m: string) => o.log(`warning: ${m}`);
  const writes = o.writeSplit ?? true;
  const index = scanDataset(o.data, { skipBadFiles: o.skipBadFiles ?? false, warn });
  if (!index.hasMasks) throw new Error(`${index.source}: training needs masks (…_mask.tif) for every slice`);
  const started = performance.now();
  const cache = await loadSlices(index, {
    width: o.size,
    height: o.size,
    skipBadFiles: o.skipBadFiles ?? false,
    warn,
  });
  o.log(
    `data: ${cache.patients.length} patients, ${cache.count} slices decoded at ${o.size}×${o.size} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  let manifest: SplitManifest;
  let manifestPath: string;
  if (o.split) {
    manifest = readSplitManifest(o.split);
    manifestPath = o.split;
  } else {
    // The run folder appears only once the data has been read: bad data leaves nothing behind.
    if (writes) mkdirSync(o.runDir, { recursive: true });
    manifestPath = join(o.runDir, 'split.json');
    const request: SplitRequest = o.sliceLevel
      ? { mode: 'slice-level-leaky', seed: o.seed, warn }
      : { mode: 'patient', fractions: o.fractions ?? DEFAULT_FRACTIONS, seed: o.seed };
    manifest = existsSync(manifestPath)
      ? readSplitManifest(manifestPath)
      : splitDataset(index, cache, request);
    if (writes) writeSplitManifest(manifestPath, manifest);
  }
  if (manifest.kind === 'k-fold' && (o.fold === undefined || o.fold >= manifest.k))
    throw new Error(
      `${manifestPath}: a ${manifest.k}-fold split: name the fold to train (--fold 0..${manifest.k - 1})`,
    );
  if (manifest.kind !== 'k-fold' && o.fold !== undefined)
    throw new Error(`${manifestPath}: --fold needs a k-fold split, this is a ${manifest.kind}`);
  const fold = o.fold ?? 0;
  const [train, val, test] = (['train', 'val', 'test'] as const).map((s) =>
    sliceIndicesOf(cache, manifest, s, fold),
  );
  if (train!.length === 0 || val!.length === 0)
    throw new Error(`${manifestPath}: the split has no training or validation slices`);
  o.log(
    `split ${manifestPath}: ${train!.length} train, ${val!.length} validation, ${test!.length} test slices`,
  );
  return { index, cache, manifest, manifestPath, train: train!, val: val!, test: test! };
}
