// `tumorscope train classifier|segmenter`: the two stages' training runs. Each writes into --out: split.json,
// log.jsonl (one line per epoch), checkpoint-<epoch>.safetensors + checkpoint.json (every epoch, atomic;
// --resume continues from them) and best.safetensors + best.json (the model to use).
import { mkdirSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { SamplingConfig } from '../../data/sampler.ts';
import { setNumThreads } from '../../engine/index.ts';
import type { TrainingLayout } from '../../models/training.ts';
import { CLASSIFIER_DEFAULTS, trainClassifier } from '../../train/classifier.ts';
import { SEGMENTATION_LOSSES, type SegmentationLossName } from '../../train/segmentation-loss.ts';
import { SEGMENTER_DEFAULTS, type SegmenterArchitecture, trainSegmenter } from '../../train/segmenter.ts';
import { classWeights, integer, layoutOption, positiveNumber, probability, sampling } from '../options.ts';

function commonOptions(
  cmd: Command,
  defaults: { epochs: number; batch: number; lr: number; size: number; patience: number },
): Command {
  return cmd
    .requiredOption('--data <dir>', 'a kaggle_3m folder (patient folders with slices and masks)')
    .requiredOption('--out <dir>', 'the run folder (e.g. runs/classifier-256)')
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
    .option(
      '--patience <n>',
      'early stopping: epochs without a better validation score',
      integer('--patience', { min: 1 }),
      defaults.patience,
    )
    .option('--resume', 'continue from the last checkpoint in --out', false)
    .option('--no-augment', 'train without augmentation')
    .option('--skip-bad-files', 'warn about unreadable files and go on without them', false);
}

interface CommonValues {
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
  patience: number;
  resume: boolean;
  augment: boolean;
  skipBadFiles: boolean;
}

function begin(o: CommonValues): { log: (line: string) => void; command: string } {
  if (o.threads) setNumThreads(o.threads);
  mkdirSync(o.out, { recursive: true });
  const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  return { log, command: ['tumorscope', ...process.argv.slice(2)].join(' ') };
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
        const { log, command } = begin(o);
        const run = await trainClassifier({
          ...o,
          sliceLevel: o.sliceLevelSplit ?? false,
          headWarmupEpochs: o.headWarmup,
          augment: o.augment ? CLASSIFIER_DEFAULTS.augment : null,
          command,
          log,
        });
        log(
          `best epoch ${run.bestEpoch} (validation AUC ${run.bestScore.toFixed(4)}); model: ${run.modelPath}.safetensors/.json`,
        );
      },
    );

  commonOptions(
    train.command('segmenter').description('stage 2: ResUNet (or U-Net) tumour segmentation'),
    SEGMENTER_DEFAULTS,
  )
    .addOption(
      new Option('--arch <name>', 'architecture')
        .choices(['resunet', 'unet'])
        .default(SEGMENTER_DEFAULTS.architecture),
    )
    .option(
      '--width <x>',
      'filter multiplier (1 = the reference network)',
      positiveNumber('--width'),
      SEGMENTER_DEFAULTS.width,
    )
    .addOption(
      new Option('--loss <name>', 'loss').choices([...SEGMENTATION_LOSSES]).default(SEGMENTER_DEFAULTS.loss),
    )
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
          loss: SegmentationLossName;
          sampling: SamplingConfig;
        },
      ) => {
        const { log, command } = begin(o);
        const run = await trainSegmenter({
          ...o,
          architecture: o.arch,
          augment: o.augment ? SEGMENTER_DEFAULTS.augment : null,
          command,
          log,
        });
        log(
          `best epoch ${run.bestEpoch} (validation per-patient Dice ${run.bestScore.toFixed(4)}); model: ${o.out}/best.safetensors/.json`,
        );
      },
    );
}
