// `tumorscope cv`: k-fold patient cross-validation of both stages. `cv train` makes (or reuses) the run's k-fold
// split and trains the chosen folds and stages, each resumable; run folds as parallel one-thread jobs with
// `--fold` and `--stage`.
import { mkdirSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { setNumThreads } from '../../engine/index.ts';
import {
  CV_RECIPE,
  CV_STAGES,
  type CvStage,
  ensureCvSplit,
  trainFold,
} from '../../train/cross-validation.ts';

const nonNegativeInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError(`${name} must be a non-negative integer, got '${v}'`);
  return n;
};
const positiveInt = (name: string) => (v: string) => {
  const n = nonNegativeInt(name)(v);
  if (n === 0) throw new InvalidArgumentError(`${name} must be at least 1`);
  return n;
};
const fraction = (name: string) => (v: string) => {
  const x = Number(v);
  if (v.trim() === '' || !(x > 0 && x < 1))
    throw new InvalidArgumentError(`${name} must lie between 0 and 1`);
  return x;
};
const foldList = (v: string) => v.split(',').map((s) => nonNegativeInt('--fold')(s));

interface CvTrainValues {
  data: string;
  out: string;
  folds: number;
  seed: number;
  valFraction: number;
  fold?: number[];
  stage: CvStage | 'both';
  threads?: number;
  segmenterEpochs: number;
  classifierEpochs: number;
  classifierSize: number;
  skipBadFiles: boolean;
}

export function registerCv(program: Command): void {
  const cv = program
    .command('cv')
    .description(
      'k-fold patient cross-validation of both stages (out-of-fold predictions for every patient)',
    );

  cv.command('train')
    .description(
      'make the k-fold split and train the folds (each stage resumable; finished ones are skipped)',
    )
    .requiredOption('--data <dir>', 'a kaggle_3m folder (patient folders with slices and masks)')
    .requiredOption('--out <dir>', 'the CV run folder (e.g. runs/cv)')
    .option('--folds <k>', 'number of folds', positiveInt('--folds'), 5)
    .option('--seed <n>', 'seed of the split and of every training', nonNegativeInt('--seed'), 0)
    .option(
      '--val-fraction <x>',
      "share of each fold's training patients used for validation",
      fraction('--val-fraction'),
      0.15,
    )
    .option('--fold <list>', 'only these folds, e.g. 0 or 1,3 (default: all)', foldList)
    .addOption(new Option('--stage <name>', 'which stage').choices([...CV_STAGES, 'both']).default('both'))
    .option('--threads <n>', 'libtorch threads (default: all cores)', positiveInt('--threads'))
    .option(
      '--segmenter-epochs <n>',
      'segmenter epochs',
      positiveInt('--segmenter-epochs'),
      CV_RECIPE.segmenter.epochs,
    )
    .option(
      '--classifier-epochs <n>',
      'classifier epochs',
      positiveInt('--classifier-epochs'),
      CV_RECIPE.classifier.epochs,
    )
    .option(
      '--classifier-size <px>',
      'classifier input size',
      positiveInt('--classifier-size'),
      CV_RECIPE.classifier.size,
    )
    .option('--skip-bad-files', 'warn about unreadable files and go on without them', false)
    .action(async (o: CvTrainValues) => {
      if (o.threads) setNumThreads(o.threads);
      mkdirSync(o.out, { recursive: true });
      const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
      const command = ['tumorscope', ...process.argv.slice(2)].join(' ');
      const manifest = await ensureCvSplit({ ...o, cvDir: o.out, log });
      const folds = o.fold ?? Array.from({ length: manifest.k }, (_, i) => i);
      for (const f of folds)
        if (f >= manifest.k)
          throw new InvalidArgumentError(`--fold ${f}: the split has folds 0..${manifest.k - 1}`);
      const stages = o.stage === 'both' ? CV_STAGES : [o.stage];
      for (const fold of folds) {
        for (const stage of stages) {
          await trainFold({
            data: o.data,
            cvDir: o.out,
            fold,
            stage,
            segmenter: {
              ...CV_RECIPE.segmenter,
              seed: o.seed,
              epochs: o.segmenterEpochs,
              patience: o.segmenterEpochs,
            },
            classifier: {
              ...CV_RECIPE.classifier,
              seed: o.seed,
              epochs: o.classifierEpochs,
              size: o.classifierSize,
            },
            skipBadFiles: o.skipBadFiles,
            command,
            log,
          });
        }
      }
    });
}
