// Stage 1 training: DenseNet121 says whether a slice holds a tumour. Categorical cross-entropy over a 2-way
// softmax, Adam, inputs rescaled to [0,1] (the reference design), augmentation, validation every epoch
// (loss, accuracy, precision, recall, F1, ROC-AUC), the best epoch by validation AUC, and a decision threshold
// chosen on validation (max Youden J) saved with the model.
import { basename, join } from 'node:path';
import { type AugmentConfig, DEFAULT_AUGMENT } from '../data/augment.ts';
import { cacheVolumeStats } from '../data/batch.ts';
import { type PreprocessConfig, RESCALE_256 } from '../data/preprocess.ts';
import type { SamplingConfig } from '../data/sampler.ts';
import {
  Adam,
  CosineAnnealingLR,
  F,
  loadWeightsInto,
  manualSeed,
  type ProcessGroup,
  readModelConfig,
  saveModel,
  tensor,
} from '../engine/index.ts';
import { classifierScores } from '../inference/network-outputs.ts';
import { binaryScores } from '../metrics/classification.ts';
import { confusionAtThreshold } from '../metrics/confusion.ts';
import { rocAuc } from '../metrics/roc.ts';
import { chooseThresholdYouden } from '../metrics/threshold.ts';
import { DENSENET121, DenseNet, type DenseNetConfig } from '../models/densenet.ts';
import { importPretrained } from '../models/import/index.ts';
import {
  DEFAULT_TRAINING_LAYOUT,
  DEFAULT_TRAINING_PRECISION,
  prepareForTraining,
  type TrainingLayout,
  type TrainingPrecision,
  trainingForward,
} from '../models/training.ts';
import { joinDataParallel } from './data-parallel.ts';
import { trainEpoch } from './epoch.ts';
import { type FitResult, fit } from './fit.ts';
import { prepareTrainingData, trainingProvenance } from './training-data.ts';
import { checkTrainingOptions, requireInteger, requirePositive } from './training-options.ts';

export interface ClassifierTrainOptions {
  data: string;
  split?: string;
  /** The fold to train when `split` is a k-fold manifest. */
  fold?: number;
  sliceLevel?: boolean;
  out: string;
  epochs: number;
  batch: number;
  lr: number;
  size: number;
  seed: number;
  resume: boolean;
  patience: number;
  /** Cross-entropy weights [no tumour, tumour]; 'balanced' weighs by inverse class frequency. */
  classWeights?: [number, number] | 'balanced';
  sampling: SamplingConfig;
  augment: AugmentConfig | null;
  headDropout: number;
  /** Changes to DenseNet121's layout (smaller nets for tests or quick CPU runs); the head is set by headDropout. */
  network?: Partial<DenseNetConfig>;
  /** ImageNet DenseNet121 weights (torchvision .pth or Keras .h5) to start from; else from scratch. */
  pretrained?: string;
  /** Train only the head: the backbone's weights and batch-norm statistics stay as loaded (transfer learning). */
  freezeBackbone?: boolean;
  /** Train only the head for this many first epochs, then everything (fine-tuning after a head warm-up). */
  headWarmupEpochs?: number;
  /** The weights' memory layout while training (default: channels-last, the faster one). */
  layout?: TrainingLayout;
  /** Arithmetic of the training forward pass (default: fp32; bf16 is mixed precision, see models/training.ts). */
  precision?: TrainingPrecision;
  skipBadFiles?: boolean;
  /** The command line, stored with the model. */
  command: string;
  log: (line: string) => void;
  /** Data-parallel training in this group: `batch` is the global batch; rank 0 writes the run folder. */
  distributed?: ProcessGroup;
}

export const CLASSIFIER_DEFAULTS = {
  epochs: 20,
  batch: 16,
  lr: 1e-4,
  size: 256,
  seed: 0,
  patience: 6,
  sampling: { kind: 'uniform' } as SamplingConfig,
  augment: DEFAULT_AUGMENT,
  headDropout: 0.2,
};

export interface ClassifierRun extends FitResult {
  threshold: number;
  modelPath: string;
}

export async function trainClassifier(o: ClassifierTrainOptions): Promise<ClassifierRun> {
  const densenet: DenseNetConfig = {
    ...DENSENET121,
    ...o.network,
    numClasses: 2,
    headDropout: o.headDropout,
  };
  checkClassifierOptions(o, densenet);
  const data = await prepareTrainingData({
    ...o,
    runDir: o.out,
    size: o.size,
    writeSplit: (o.distributed?.rank ?? 0) === 0,
  });
  const { cache } = data;
  let preprocess: PreprocessConfig = { ...RESCALE_256, width: o.size, height: o.size };
  const positive = Array.from(data.train, (i) => cache.tumourPixels[i]! > 0);
  const valLabels = Uint8Array.from(data.val, (i) => (cache.tumourPixels[i]! > 0 ? 1 : 0));
  manualSeed(o.seed); // --seed decides the initial weights too
  const model = new DenseNet(densenet);
  let pretrained: Record<string, unknown> | null = null;
  if (o.pretrained) {
    const report = importPretrained(o.pretrained, model);
    for (const w of report.warnings) o.log(`warning: ${w}`);
    o.log(
      `pretrained: ${report.loaded.length} tensors from ${report.file} (${report.format}); new: ${report.leftNew.join(', ')}`,
    );
    // The weights expect their own input normalisation: it becomes this model's preprocessing.
    const { mean, std } = report.inputNormalization;
    preprocess = { ...preprocess, intensity: { kind: 'rescale', mean, std } };
    pretrained = {
      file: basename(report.file),
      format: report.format,
      loaded: report.loaded.length,
      normalization: report.inputNormalization.description,
    };
  }
  prepareForTraining(model, o.layout);
  const volumeStats = cacheVolumeStats(cache, preprocess);
  const warmup = o.headWarmupEpochs ?? 0;
  const freezing = o.freezeBackbone === true || warmup > 0;
  // Backbone and head as two groups only when one is frozen at times (checkpoints of other runs keep one group).
  const optimizer = new Adam(
    freezing
      ? [{ params: model.features.parameters() }, { params: model.classifier.parameters() }]
      : model.parameters(),
    { lr: o.lr },
  );
  const backboneFrozenIn = (epoch: number) => o.freezeBackbone === true || epoch <= warmup;
  const scheduler = new CosineAnnealingLR(optimizer, o.epochs, o.lr / 50);
  const weights = classWeights(o.classWeights, positive);
  const weightTensor = weights ? tensor(Float32Array.from(weights)).keep() : null;
  const modelConfig = {
    kind: 'classifier',
    architecture: 'densenet121',
    densenet,
    classes: ['no tumour', 'tumour'],
    preprocess,
    pretrained,
    training: {
      ...trainingProvenance(data, o),
      classWeights: weights,
      sampling: o.sampling,
      augment: o.augment,
      freezeBackbone: o.freezeBackbone ?? false,
      headWarmupEpochs: warmup,
    },
  };
  const parallel = joinDataParallel(o.distributed, model, data, modelConfig);
  o.log(
    `classifier: DenseNet121, ${model.parameterCount().toLocaleString('en')} parameters, batch ${o.batch}, lr ${o.lr}, layout ${o.layout ?? DEFAULT_TRAINING_LAYOUT}, precision ${o.precision ?? DEFAULT_TRAINING_PRECISION}${parallel ? `, ${parallel.worldSize} processes` : ''}`,
  );

  const result = fit({
    runDir: o.out,
    epochs: o.epochs,
    seed: o.seed,
    model,
    optimizer,
    scheduler,
    resume: o.resume,
    patience: o.patience,
    monitor: 'val_auc',
    mode: 'max',
    modelConfig,
    log: o.log,
    parallel,
    beforeEpoch: (epoch) => {
      if (!freezing) return;
      const frozen = backboneFrozenIn(epoch);
      optimizer.setFrozen(0, frozen);
      // A frozen backbone keeps its batch-norm statistics too (as Keras's trainable = False).
      if (frozen) model.features.eval();
      if (epoch === warmup + 1 && !o.freezeBackbone && warmup > 0)
        o.log(`head warm-up over: training every layer`);
    },
    trainEpoch: (epoch) => {
      // Training accuracy as Keras reports it: on the batches as trained (augmented, dropout on), before each step.
      let correct = 0;
      let seen = 0;
      const { train_loss } = trainEpoch({
        epoch,
        seed: o.seed,
        cache,
        train: data.train,
        sampling: o.sampling,
        batch: o.batch,
        preprocess,
        volumeStats,
        augment: o.augment,
        optimizer,
        loss: (b) => {
          const logits = trainingForward(model, b.images, o.precision);
          correct += logits.detach().argmax(1).eq(b.labels!).sum().item();
          seen += b.labels!.shape[0]!;
          return F.crossEntropy(logits, b.labels!, { weight: weightTensor });
        },
        log: o.log,
        parallel,
      });
      const accuracy = correct / seen;
      return { train_loss, train_accuracy: parallel ? parallel.mean(accuracy) : accuracy };
    },
    validate: () => {
      const scores = classifierScores(model, {
        cache,
        indices: data.val,
        preprocess,
        volumeStats,
        batchSize: o.batch,
      });
      const c = binaryScores(confusionAtThreshold(scores, valLabels, 0.5));
      return {
        val_loss: crossEntropyOfScores(scores, valLabels),
        val_accuracy: c.accuracy,
        val_precision: c.precision,
        val_recall: c.recall,
        val_f1: c.f1,
        val_auc: rocAuc(scores, valLabels),
      };
    },
  });

  // The decision threshold is chosen on validation with the best weights, then saved with them (by rank 0).
  const modelPath = join(o.out, 'best');
  const chooseThreshold = (): number => {
    loadWeightsInto(modelPath, model);
    const scores = classifierScores(model, {
      cache,
      indices: data.val,
      preprocess,
      volumeStats,
      batchSize: o.batch,
    });
    const choice = chooseThresholdYouden(scores, valLabels);
    const saved = readModelConfig(modelPath);
    saveModel(modelPath, model, {
      ...saved,
      threshold: choice.threshold,
      thresholdRule: 'max Youden J (TPR − FPR) on the validation split; ties to the higher threshold',
      validation: { youdenJ: choice.youdenJ, tpr: choice.tpr, fpr: choice.fpr },
    });
    o.log(
      `threshold ${choice.threshold.toFixed(4)} (validation TPR ${choice.tpr.toFixed(3)}, FPR ${choice.fpr.toFixed(3)})`,
    );
    return choice.threshold;
  };
  const threshold = parallel ? parallel.group.fromRank0('threshold', chooseThreshold) : chooseThreshold();
  weightTensor?.dispose();
  return { ...result, threshold, modelPath };
}

function checkClassifierOptions(o: ClassifierTrainOptions, densenet: DenseNetConfig): void {
  // The stem quarters the input and each transition halves it: fewer than 32 pixels vanish before the head.
  const halvings = densenet.blockConfig.length + 1;
  checkTrainingOptions(
    { ...o, processes: o.distributed?.worldSize },
    { min: 2 ** halvings, multiple: 1, why: `DenseNet halves it ${halvings} times` },
  );
  if (!(o.headDropout >= 0 && o.headDropout < 1))
    throw new RangeError(`headDropout must be from 0 to below 1, got ${o.headDropout}`);
  requireInteger('headWarmupEpochs', o.headWarmupEpochs ?? 0, 0);
  if (Array.isArray(o.classWeights)) for (const w of o.classWeights) requirePositive('classWeights', w);
}

function classWeights(
  w: ClassifierTrainOptions['classWeights'],
  positive: boolean[],
): [number, number] | null {
  if (w === undefined) return null;
  if (w !== 'balanced') return w;
  const pos = positive.filter(Boolean).length;
  const neg = positive.length - pos;
  return [positive.length / (2 * Math.max(1, neg)), positive.length / (2 * Math.max(1, pos))];
}

/** Mean binary cross-entropy of P(tumour) scores (the same quantity as the 2-way softmax cross-entropy). */
function crossEntropyOfScores(scores: Float32Array, labels: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = Math.min(Math.max(scores[i]!, 1e-7), 1 - 1e-7);
    sum -= labels[i] ? Math.log(p) : Math.log(1 - p);
  }
  return sum / scores.length;
}
