// `tumorscope cv`: k-fold patient cross-validation of both stages. `cv train` makes (or reuses) the run's k-fold
// split and trains the chosen folds and stages, each resumable; run folds as parallel one-thread jobs with
// `--fold` and `--stage`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { AugmentConfig } from '../../data/augment.ts';
import { type KFoldManifest, readSplitManifest } from '../../data/split-manifest.ts';
import { setNumThreads, writeJsonAtomic } from '../../engine/index.ts';
import type { CvSummary } from '../../eval/cv-summary.ts';
import { writeCvReport } from '../../eval/report/write.ts';
import type { TrainingLayout, TrainingPrecision } from '../../models/training.ts';
import {
  cvCurves,
  cvMetrics,
  cvMetricsPath,
  cvProgress,
  cvTrainingLogs,
  loadOofPatients,
  readCvMetrics,
} from '../../pipeline/cv-report.ts';
import { INFERENCE_BATCH } from '../../pipeline/default-models.ts';
import { hasOof, writeOof } from '../../pipeline/out-of-fold.ts';
import type { TtaMode } from '../../postprocess/config.ts';
import {
  CV_RECIPE,
  CV_STAGES,
  type CvStage,
  collectCv,
  cvSplitPath,
  ensureCvSplit,
  stageFinished,
  trainFold,
} from '../../train/cross-validation.ts';
import type { SegmentationLossName } from '../../train/segmentation-loss.ts';
import type { SegmenterArchitecture } from '../../train/segmenter.ts';
import {
  fraction,
  integer,
  layoutOption,
  neighboursOption,
  positiveNumber,
  precisionOption,
  segmentationLossOption,
  segmenterArchOption,
} from '../options.ts';

/** A comma-separated list of fold numbers. */
const foldList = (v: string) => v.split(',').map((s) => integer('--fold')(s));

export interface CvTrainValues {
  data: string;
  out: string;
  folds: number;
  seed: number;
  valFraction: number;
  fold?: number[];
  stage: CvStage | 'both';
  threads?: number;
  layout: TrainingLayout;
  precision: TrainingPrecision;
  segmenterEpochs: number;
  classifierEpochs: number;
  classifierSize: number;
  missingSequences?: number;
  segmenterLoss: SegmentationLossName;
  segmenterArch: SegmenterArchitecture;
  segmenterWidth: number;
  segmenterNeighbours: number;
  /** Seed of sampling, augmentation and initialisation when it differs from the split's. */
  trainingSeed?: number;
  skipBadFiles: boolean;
}

/** The recipe's augmentation, with FLAIR standing in for missing sequences when asked for. */
function withMissingSequences(augment: AugmentConfig, p: number | undefined): AugmentConfig {
  return p === undefined ? augment : { ...augment, missingSequences: p };
}

/** Each stage's training recipe: the CV recipe with the command line's changes to it. */
export function cvFoldRecipes(o: CvTrainValues) {
  return {
    segmenter: {
      ...CV_RECIPE.segmenter,
      seed: o.trainingSeed ?? o.seed,
      layout: o.layout,
      precision: o.precision,
      augment: withMissingSequences(CV_RECIPE.segmenter.augment, o.missingSequences),
      loss: o.segmenterLoss,
      architecture: o.segmenterArch,
      width: o.segmenterWidth,
      neighbours: o.segmenterNeighbours,
      epochs: o.segmenterEpochs,
      patience: o.segmenterEpochs,
    },
    classifier: {
      ...CV_RECIPE.classifier,
      seed: o.trainingSeed ?? o.seed,
      layout: o.layout,
      precision: o.precision,
      augment: withMissingSequences(CV_RECIPE.classifier.augment, o.missingSequences),
      epochs: o.classifierEpochs,
      size: o.classifierSize,
    },
  };
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
    .option('--folds <k>', 'number of folds', integer('--folds', { min: 2 }), 5)
    .option('--seed <n>', 'seed of the split and of every training', integer('--seed'), 0)
    .option(
      '--training-seed <n>',
      'seed of sampling, augmentation and initialisation (default: --seed); another training of the same split',
      integer('--training-seed'),
    )
    .option(
      '--val-fraction <x>',
      "share of each fold's training patients used for validation",
      fraction('--val-fraction'),
      0.15,
    )
    .option('--fold <list>', 'only these folds, e.g. 0 or 1,3 (default: all)', foldList)
    .addOption(new Option('--stage <name>', 'which stage').choices([...CV_STAGES, 'both']).default('both'))
    .option('--threads <n>', 'libtorch threads (default: all cores)', integer('--threads', { min: 1 }))
    .addOption(layoutOption())
    .addOption(precisionOption())
    .option(
      '--segmenter-epochs <n>',
      'segmenter epochs',
      integer('--segmenter-epochs', { min: 1 }),
      CV_RECIPE.segmenter.epochs,
    )
    .option(
      '--classifier-epochs <n>',
      'classifier epochs',
      integer('--classifier-epochs', { min: 1 }),
      CV_RECIPE.classifier.epochs,
    )
    .option(
      '--classifier-size <px>',
      'classifier input size',
      integer('--classifier-size', { min: 1 }),
      CV_RECIPE.classifier.size,
    )
    .option(
      '--missing-sequences <p>',
      'augmentation of both stages: probability that a slice gets FLAIR in place of its pre-contrast, post-contrast or both',
      fraction('--missing-sequences'),
    )
    .addOption(segmentationLossOption('--segmenter-loss'))
    .addOption(segmenterArchOption('--segmenter-arch'))
    .addOption(neighboursOption('--segmenter-neighbours'))
    .option(
      '--segmenter-width <x>',
      "the segmenter's filter multiplier (1 = the reference network)",
      positiveNumber('--segmenter-width'),
      CV_RECIPE.segmenter.width,
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
      const recipes = cvFoldRecipes(o);
      for (const fold of folds) {
        for (const stage of stages) {
          await trainFold({
            data: o.data,
            cvDir: o.out,
            fold,
            stage,
            ...recipes,
            skipBadFiles: o.skipBadFiles,
            command,
            log,
          });
          if (!hasOof(o.out, fold, stage))
            await writeOof(
              { data: o.data, cvDir: o.out, fold, batch: INFERENCE_BATCH, skipBadFiles: o.skipBadFiles, log },
              stage,
            );
        }
      }
    });

  cv.command('oof')
    .description(
      "write the out-of-fold predictions of every finished stage that has none yet (or of --fold's)",
    )
    .requiredOption('--data <dir>', 'the kaggle_3m folder the CV run trained on')
    .requiredOption('--out <dir>', 'the CV run folder')
    .option('--fold <list>', 'only these folds, e.g. 0 or 1,3 (default: all)', foldList)
    .option('--again', 'rewrite OOF outputs that exist already', false)
    .addOption(
      new Option('--tta <modes...>', "the segmenter's TTA modes to store")
        .choices(['none', 'flips'])
        .default(['none', 'flips']),
    )
    .addOption(
      new Option(
        '--precision <name>',
        'arithmetic of the fold networks: fp32, or bf16 (as predict --backend torch-bf16 runs them)',
      )
        .choices(['fp32', 'bf16'])
        .default('fp32'),
    )
    .option('--threads <n>', 'libtorch threads (default: all cores)', integer('--threads', { min: 1 }))
    .option('--skip-bad-files', 'warn about unreadable files and go on without them', false)
    .action(
      async (o: {
        data: string;
        out: string;
        fold?: number[];
        again: boolean;
        tta: TtaMode[];
        precision: 'fp32' | 'bf16';
        threads?: number;
        skipBadFiles: boolean;
      }) => {
        if (o.threads) setNumThreads(o.threads);
        const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
        const manifest = foldCount(o.out);
        const folds = o.fold ?? Array.from({ length: manifest }, (_, i) => i);
        for (const fold of folds)
          for (const stage of CV_STAGES) {
            if (!stageFinished(o.out, fold, stage)) {
              log(`fold ${fold} ${stage}: not finished training, no OOF outputs`);
              continue;
            }
            if (hasOof(o.out, fold, stage) && !o.again) continue;
            log(`fold ${fold} ${stage}: writing OOF outputs`);
            await writeOof({ ...o, cvDir: o.out, fold, batch: INFERENCE_BATCH, log }, stage);
          }
      },
    );

  cv.command('collect')
    .description(
      'copy what must survive a machine reset (best models as float16, logs, OOF outputs) into --to',
    )
    .requiredOption('--out <dir>', 'the CV run folder')
    .option('--to <dir>', 'where to copy (committed)', 'models/cv')
    .action((o: { out: string; to: string }) => {
      for (const line of collectCv(o.out, o.to, foldCount(o.out)))
        console.log(`collected ${line} -> ${o.to}`);
    });

  cv.command('report')
    .description(
      'choose threshold, fusion and post-processing on the OOF predictions; write cv-metrics.json and report.html',
    )
    .requiredOption('--data <dir>', 'the kaggle_3m folder the CV run trained on (for the true masks)')
    .requiredOption('--out <dir>', 'the CV run folder')
    .option(
      '--reuse-metrics',
      "redraw report.html from the run's cv-metrics.json instead of choosing again (it must cover the same OOF patients)",
      false,
    )
    .option('--skip-bad-files', 'warn about unreadable files and go on without them', false)
    .action(async (o: { data: string; out: string; reuseMetrics: boolean; skipBadFiles: boolean }) => {
      const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
      const manifest = kFoldManifest(o.out);
      const patients = await loadOofPatients({
        data: o.data,
        cvDir: o.out,
        folds: manifest.k,
        skipBadFiles: o.skipBadFiles,
        log,
      });
      let summary: CvSummary;
      if (o.reuseMetrics) {
        summary = readCvMetrics(o.out, patients);
        log(`reusing ${cvMetricsPath(o.out)}`);
      } else {
        const metrics = cvMetrics(patients, { log });
        writeJsonAtomic(cvMetricsPath(o.out), metrics);
        summary = metrics;
        const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
        log(`chosen: ${JSON.stringify(metrics.config)}`);
        log(
          `nested OOF, ${metrics.patients} patients: mean per-patient Dice ${f(metrics.oof.endToEnd.meanPatientDice)}, median ${f(metrics.oof.endToEnd.medianPatientDice)}; slice accuracy ${f(metrics.oof.classification.accuracy)}, recall ${f(metrics.oof.classification.recall)}, specificity ${f(metrics.oof.classification.specificity)}, AUC ${f(metrics.oof.classification.auc)}`,
        );
        for (const family of metrics.families)
          log(
            `  ${family.family}: nested mean Dice ${f(family.nested.meanPatientDice)}, chosen on all ${f(family.chosenOnAll.meanPatientDice)}`,
          );
        log(`wrote ${cvMetricsPath(o.out)}`);
      }
      const trainingLogs = cvTrainingLogs(o.out, manifest.k, log);
      const written = await writeCvReport(o.out, {
        summary,
        curves: cvCurves(patients, summary.config),
        progress: cvProgress(o.out, manifest, trainingLogs),
        trainingLogs,
      });
      log(`wrote ${join(written.dir, 'report.html')} (and ${written.files.length - 1} more files)`);
    });
}

/** An existing CV run's k-fold split. */
function kFoldManifest(cvDir: string): KFoldManifest {
  const m = readSplitManifest(cvSplitPath(cvDir));
  if (m.kind !== 'k-fold') throw new Error(`${cvSplitPath(cvDir)}: not a k-fold split`);
  return m;
}

/** The number of folds of an existing CV run's split. */
function foldCount(cvDir: string): number {
  return kFoldManifest(cvDir).k;
}
