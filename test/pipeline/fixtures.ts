// A tiny kaggle_3m folder whose tumours are visible (a bright square where the mask has it), and two tiny
// models trained on it with one hand-made split: the classifier at 32×32, the segmenter at 48×48, so that the
// evaluator has to decode the slices at two sizes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { institutionOf } from '../../src/data/dataset-index.ts';
import { patientSplitManifestOf, writeSplitManifest } from '../../src/data/split-manifest.ts';
import { trainClassifier } from '../../src/train/classifier.ts';
import { trainSegmenter } from '../../src/train/segmenter.ts';
import { PATIENTS, SLICES_PER_PATIENT } from '../helpers/visible-tumours.ts';

export const CLASSIFIER_SIZE = 32;
export const SEGMENTER_SIZE = 48;

/** Patients of the test split (two, so that per-patient figures are a list); 2 validation, 4 training. */
export const TEST_PATIENTS = [PATIENTS[2]!, PATIENTS[5]!];
const VAL_PATIENTS = [PATIENTS[3]!, PATIENTS[6]!];

export function writeSplit(data: string, path: string): string {
  const train = PATIENTS.filter((id) => !TEST_PATIENTS.includes(id) && !VAL_PATIENTS.includes(id));
  const summaries = PATIENTS.map((id) => ({
    id,
    institution: institutionOf(id),
    slices: SLICES_PER_PATIENT,
    positives: SLICES_PER_PATIENT / 2,
  }));
  const fractions = { train: 0.5, val: 0.25, test: 0.25 };
  const split = { train, val: VAL_PATIENTS, test: TEST_PATIENTS };
  writeSplitManifest(path, patientSplitManifestOf(data, 7, fractions, split, summaries));
  return path;
}

export interface TrainedModels {
  /** Model base paths. */
  classifier: string;
  segmenter: string;
  /** The split both were trained with. */
  split: string;
}

/** Trains both stages briefly on one split (written to `runs`/split.json). */
export async function trainTinyModels(data: string, runs: string): Promise<TrainedModels> {
  mkdirSync(runs, { recursive: true });
  const split = writeSplit(data, join(runs, 'split.json'));
  const quiet = () => {};
  const common = {
    data,
    split,
    batch: 8,
    seed: 1,
    resume: false,
    patience: 100,
    augment: null,
    command: 'test',
    log: quiet,
  };
  const classifierRun = join(runs, 'classifier');
  await trainClassifier({
    ...common,
    out: classifierRun,
    epochs: 2,
    lr: 1e-3,
    size: CLASSIFIER_SIZE,
    sampling: { kind: 'uniform' },
    headDropout: 0,
  });
  const segmenterRun = join(runs, 'segmenter');
  await trainSegmenter({
    ...common,
    out: segmenterRun,
    architecture: 'resunet',
    width: 0.5,
    epochs: 3,
    lr: 3e-3,
    size: SEGMENTER_SIZE,
    loss: 'bce-dice',
    sampling: { kind: 'tumour-only' },
  });
  return { classifier: join(classifierRun, 'best'), segmenter: join(segmenterRun, 'best'), split };
}
