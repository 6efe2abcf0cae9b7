// `tumorscope train classifier|segmenter`: the two stages' training runs. Each writes into --out: split.json,
// log.jsonl (one line per epoch), checkpoint-<epoch>.safetensors + checkpoint.json (every epoch, atomic;
// --resume continues from them) and best.safetensors + best.json (the model to use).

import { type Command, Option } from 'commander';
import type { AugmentConfig } from '../../data/augment.ts';
import type { SamplingConfig } from '../../data/sampler.ts';
import { ProcessGroup, setNumThreads } from '../../engine/index.ts';
import type { TrainingLayout, TrainingPrecision } from '../../models/training.ts';
import { CLASSIFIER_DEFAULTS, trainClassifier } from '../../train/classifier.ts';
import type { SegmentationLossName } from '../../train/segmentation-loss.ts';
import { SEGMENTER_DEFAULTS, type SegmenterArchitecture, trainSegmenter } from '../../train/segmenter.ts';
import { requireBatchSplit } from '../../train/training-options.ts';
import {
  type DistributedFlags,
  type DistributedSettings,
  distributedOptions,
  distributedSettings,
  launchLocalWorkers,
} from '../launch.ts';
import {
  classWeights,
  fraction,
  integer,
  layoutOption,
  neighboursOption,
  positiveNumber,
  precisionOption,
  probability,
  sampling,
  segmentationLossOption,
  segmenterArchOption,
} from '../options.ts';

function commonOptions(
  cmd: Command,
  defaults: { epochs: number; batch: number; lr: number; size: number; patience: number },
): Command {
  return distributedOptions(cmd)
    .requiredOption('--data <dir>', 'a kaggle_3m folder (patient folders with slices and masks)')
    .requiredOption('--out <dir>', `the run folder (e.g. runs/${cmd.name()}-${defaults.size})`)
    .option(
      '--split <manifest.json>',
      'a split manifest to follow (default: a patient split made and saved in --out)',
    )
    .option('--fold <k>', 'the fold to train when --split is a k-fold manifest (0-based)', integer('--fold'))
    .option('--epochs <n>', 'epochs', integer('--epochs', { min: 1 }), defaults.epochs)
    .option('--batch <n>', 'batch size', integer('--batch', { min: 1 }), defaults.batch)
    .option('--lr <x>', 'initial learning rate (cosine-annealed)', positiveNumber('--lr'), defaults.lr)
    .option('--size <px>', 'input size (slices are resized)', integer('--size', { min: 1 }), defaults.size)
    .option('--seed <n>', 'seed of split, sampling, augmentation and initialisation', integer('--seed'), 0)
    .option('--threads <n>', 'libtorch threads (default: all cores)', integer('--threads', { min: 1 }))
    .addOption(layoutOption())
    .addOption(precisionOption())
    .option(
      '--patience <n>',
      'early stopping: epochs without a better validation score',
      integer('--patience', { min: 1 }),
      defaults.patience,
    )
    .option('--resume', 'continue from the last checkpoint in --out', false)
    .option('--no-augment', 'train without augmentation')
    .option(
      '--missing-sequences <p>',
      'augmentation: probability that a slice gets FLAIR in place of its pre-contrast, post-contrast or both, as the dataset stores patients without them',
      fraction('--missing-sequences'),
    )
    .option('--skip-bad-files', 'warn about unreadable files and go on without them', false);
}

interface CommonValues extends DistributedFlags {
  data: string;
  out: string;
  split?: string;
  fold?: number;
  epochs: number;
  batch: number;
  lr: number;
  size: number;
  seed: number;
  threads?: number;
  layout: TrainingLayout;
  precision: TrainingPrecision;
  patience: number;
  resume: boolean;
  augment: boolean;
  missingSequences?: number;
  skipBadFiles: boolean;
}

/** The stage's default augmentation with the options' additions; null without augmentation. */
function augmentFrom(o: CommonValues, defaults: AugmentConfig): AugmentConfig | null {
  if (!o.augment) {
    if (o.missingSequences !== undefined)
      throw new Error('--missing-sequences is an augmentation: drop --no-augment');
    return null;
  }
  return o.missingSequences === undefined ? defaults : { ...defaults, missingSequences: o.missingSequences };
}

interface Begun {
  log: (line: string) => void;
  command: string;
  group?: ProcessGroup;
}

/**
 * Runs a training command: as this process alone, as one rank of a data-parallel run (only rank 0 logs), or as
 * the launcher of --nproc local ranks.
 */
async function runTraining(o: CommonValues, train: (begun: Begun) => Promise<void>): Promise<void> {
  const settings: DistributedSettings = distributedSettings(o, process.env);
  const processes =
    settings.kind === 'launch' ? settings.nproc : settings.kind === 'rank' ? settings.group.worldSize : 1;
  requireBatchSplit(o.batch, processes); // before any process starts
  const stamp = (line: string) => `[${new Date().toISOString().slice(11, 19)}] ${line}`;
  if (settings.kind === 'launch') {
    const code = await launchLocalWorkers({
      ...settings,
      args: process.argv.slice(2),
      log: (line) => console.error(stamp(line)),
    });
    if (code !== 0) process.exitCode = code;
    return;
  }
  if (o.threads) setNumThreads(o.threads);
  const rank0 = settings.kind === 'single' || settings.group.rank === 0;
  const log = rank0 ? (line: string) => console.log(stamp(line)) : () => {};
  const command = ['tumorscope', ...process.argv.slice(2)].join(' ');
  const group = settings.kind === 'rank' ? ProcessGroup.join(settings.group) : undefined;
  try {
    await train({ log, command, ...(group ? { group } : {}) });
    // Nobody closes the store (rank 0's) while another rank may still read from it.
    group?.barrier();
  } finally {
    group?.close();
  }
}

export function registerTrain(program: Command): void {
  const train = program.command('train').description('train a stage of the pipeline');

  commonOptions(
    train.command('classifier').description('stage 1: DenseNet121 tumour / no-tumour classifier'),
    CLASSIFIER_DEFAULTS,
  )
    .option(
      '--sampling <kind>',
      'uniform, class-balanced or oversample:<factor>',
      sampling('--sampling'),
      CLASSIFIER_DEFAULTS.sampling,
    )
    .option(
      '--class-weights <w>',
      "cross-entropy class weights: 'balanced' or '<no tumour>,<tumour>'",
      classWeights('--class-weights'),
    )
    .option(
      '--head-dropout <p>',
      'dropout before the classifier layer',
      probability('--head-dropout'),
      CLASSIFIER_DEFAULTS.headDropout,
    )
    .option(
      '--pretrained <file>',
      "ImageNet DenseNet121 weights to start from: torchvision's densenet121-*.pth or Keras's .h5",
    )
    .option('--freeze-backbone', 'train only the head; the backbone stays as loaded (transfer learning)')
    .option(
      '--head-warmup <epochs>',
      'train only the head for this many first epochs, then every layer',
      integer('--head-warmup'),
      0,
    )
    .addOption(
      new Option(
        '--slice-level-split',
        "the reference design's slice-level split (leaks patients; for comparison only)",
      ),
    )
    .action(
      async (
        o: CommonValues & {
          sampling: SamplingConfig;
          classWeights?: [number, number] | 'balanced';
          headDropout: number;
          pretrained?: string;
          freezeBackbone?: boolean;
          headWarmup: number;
          sliceLevelSplit?: boolean;
        },
      ) => {
        await runTraining(o, async ({ log, command, group }) => {
          const run = await trainClassifier({
            ...o,
            sliceLevel: o.sliceLevelSplit ?? false,
            headWarmupEpochs: o.headWarmup,
            augment: augmentFrom(o, CLASSIFIER_DEFAULTS.augment!),
            command,
            log,
            ...(group ? { distributed: group } : {}),
          });
          log(
            `best epoch ${run.bestEpoch} (validation AUC ${run.bestScore.toFixed(4)}); model: ${run.modelPath}.safetensors/.json`,
          );
        });
      },
    );

  commonOptions(
    train.command('segmenter').description('stage 2: ResUNet (or U-Net) tumour segmentation'),
    SEGMENTER_DEFAULTS,
  )
    .addOption(segmenterArchOption('--arch'))
    .addOption(neighboursOption('--neighbours'))
    .option(
      '--width <x>',
      'filter multiplier (1 = the reference network)',
      positiveNumber('--width'),
      SEGMENTER_DEFAULTS.width,
    )
    .addOption(segmentationLossOption('--loss'))
    .option(
      '--sampling <kind>',
      'tumour-only, oversample:<factor> or uniform',
      sampling('--sampling'),
      SEGMENTER_DEFAULTS.sampling,
    )
    .action(
      async (
        o: CommonValues & {
          arch: SegmenterArchitecture;
          width: number;
          neighbours: number;
          loss: SegmentationLossName;
          sampling: SamplingConfig;
        },
      ) => {
        await runTraining(o, async ({ log, command, group }) => {
          const run = await trainSegmenter({
            ...o,
            architecture: o.arch,
            augment: augmentFrom(o, SEGMENTER_DEFAULTS.augment!),
            command,
            log,
            ...(group ? { distributed: group } : {}),
          });
          log(
            `best epoch ${run.bestEpoch} (validation per-patient Dice ${run.bestScore.toFixed(4)}); model: ${o.out}/best.safetensors/.json`,
          );
        });
      },
    );
}
