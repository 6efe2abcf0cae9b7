// Stage 2 training: a ResUNet (or Buda et al.'s U-Net) outlines the tumour. Validation every epoch gives Dice
// and IoU over tumour slices and the primary figure, Dice per patient volume (every validation slice of a
// patient pooled, segmenter alone); the best epoch by that per-volume Dice is kept.

import { join } from 'node:path';
import { type AugmentConfig, DEFAULT_AUGMENT } from '../data/augment.ts';
import { assembleBatch, cacheVolumeStats } from '../data/batch.ts';
import { groupByPatient } from '../data/group-by-patient.ts';
import { inputChannels, type PreprocessConfig, RESCALE_256 } from '../data/preprocess.ts';
import type { SamplingConfig } from '../data/sampler.ts';
import {
  Adam,
  CosineAnnealingLR,
  F,
  loadWeightsInto,
  type Module,
  manualSeed,
  noGrad,
  type ProcessGroup,
  readModelConfig,
  saveModel,
  writeJsonAtomic,
} from '../engine/index.ts';
import { forEachBatch } from '../inference/batches.ts';
import { segmenterProbabilities } from '../inference/network-outputs.ts';
import { maskOverlap, segmentationScores } from '../metrics/segmentation.ts';
import { REFERENCE_RESUNET, ResUNet, type ResUNetConfig } from '../models/resunet.ts';
import {
  DEFAULT_TRAINING_LAYOUT,
  DEFAULT_TRAINING_PRECISION,
  prepareForTraining,
  type TrainingLayout,
  type TrainingPrecision,
  trainingForward,
} from '../models/training.ts';
import { BUDA_UNET, UNet, type UNetConfig } from '../models/unet.ts';
import {
  choosePostprocessAndTta,
  type PostprocessChoice,
  type TtaMode,
  type ValidationVolume,
} from '../postprocess/index.ts';
import { joinDataParallel } from './data-parallel.ts';
import { trainEpoch } from './epoch.ts';
import { type FitResult, fit } from './fit.ts';
import { type SegmentationLossName, segmentationLoss } from './segmentation-loss.ts';
import { prepareTrainingData, type TrainingData, trainingProvenance } from './training-data.ts';
import { checkTrainingOptions, requirePositive } from './training-options.ts';

export const SEGMENTER_ARCHITECTURES = ['resunet', 'unet'] as const;
export type SegmenterArchitecture = (typeof SEGMENTER_ARCHITECTURES)[number];

export interface SegmenterTrainOptions {
  data: string;
  split?: string;
  /** The fold to train when `split` is a k-fold manifest. */
  fold?: number;
  out: string;
  architecture: SegmenterArchitecture;
  /** Multiplies every layer's filters (1 = the reference network). */
  width: number;
  /** 2.5-D input: neighbouring slices on each side stacked as channels (0: the slice alone). */
  neighbours?: number;
  epochs: number;
  batch: number;
  lr: number;
  size: number;
  seed: number;
  resume: boolean;
  patience: number;
  loss: SegmentationLossName;
  sampling: SamplingConfig;
  augment: AugmentConfig | null;
  skipBadFiles?: boolean;
  /** The weights' memory layout while training (default: channels-last, the faster one). */
  layout?: TrainingLayout;
  /** Arithmetic of the training forward pass (default: fp32; bf16 is mixed precision, see models/training.ts). */
  precision?: TrainingPrecision;
  command: string;
  log: (line: string) => void;
  /** Data-parallel training in this group: `batch` is the global batch; rank 0 writes the run folder. */
  distributed?: ProcessGroup;
}

export const SEGMENTER_DEFAULTS = {
  architecture: 'resunet' as SegmenterArchitecture,
  width: 1,
  epochs: 40,
  batch: 16,
  lr: 1e-3,
  size: 256,
  seed: 0,
  patience: 8,
  loss: 'bce-dice' as SegmentationLossName,
  sampling: { kind: 'tumour-oversampling', factor: 3 } as SamplingConfig,
  augment: DEFAULT_AUGMENT,
};

/** The network's layout: the reference one of `architecture` with its filters multiplied by `width`. */
export function segmenterConfig(
  architecture: SegmenterArchitecture,
  width: number,
  inChannels = 3,
): ResUNetConfig | UNetConfig {
  const reference = architecture === 'resunet' ? REFERENCE_RESUNET : BUDA_UNET;
  return { ...reference, inChannels, features: Math.round(reference.features * width) };
}

export function buildSegmenter(
  architecture: SegmenterArchitecture,
  width: number,
  inChannels = 3,
): { model: Module; config: ResUNetConfig | UNetConfig } {
  const config = segmenterConfig(architecture, width, inChannels);
  return { model: architecture === 'resunet' ? new ResUNet(config) : new UNet(config), config };
}

function checkSegmenterOptions(o: SegmenterTrainOptions): void {
  const { depth } = segmenterConfig(o.architecture, 1);
  // Each level halves the image and the way back doubles it: the sizes must meet again at every level.
  checkTrainingOptions(
    { ...o, processes: o.distributed?.worldSize },
    {
      min: 2 ** depth,
      multiple: 2 ** depth,
      why: `the ${o.architecture} halves it ${depth} times`,
    },
  );
  requirePositive('width', o.width);
  const n = o.neighbours ?? 0;
  if (!(Number.isInteger(n) && n >= 0 && n <= 4))
    throw new RangeError(`neighbours ${n}: a whole number of slices on each side, 0 to 4`);
  const { features } = segmenterConfig(o.architecture, o.width);
  if (features < 1) throw new RangeError(`width ${o.width} leaves the ${o.architecture} no filters`);
}

export async function trainSegmenter(
  o: SegmenterTrainOptions,
): Promise<FitResult & { postprocess: PostprocessChoice }> {
  checkSegmenterOptions(o);
  const data = await prepareTrainingData({
    ...o,
    runDir: o.out,
    size: o.size,
    writeSplit: (o.distributed?.rank ?? 0) === 0,
  });
  const { cache } = data;
  const preprocess: PreprocessConfig = {
    ...RESCALE_256,
    width: o.size,
    height: o.size,
    ...(o.neighbours ? { neighbours: o.neighbours } : {}),
  };
  const volumeStats = cacheVolumeStats(cache, preprocess);
  const positive = Array.from(data.train, (i) => cache.tumourPixels[i]! > 0);
  manualSeed(o.seed); // --seed decides the initial weights too
  const { model, config } = buildSegmenter(o.architecture, o.width, inputChannels(preprocess));
  prepareForTraining(model, o.layout);
  const optimizer = new Adam(model.parameters(), { lr: o.lr });
  const scheduler = new CosineAnnealingLR(optimizer, o.epochs, o.lr / 50);
  // Weighted sampling draws as many slices per epoch as there are tumour slices, times two: an epoch then costs
  // about the same whatever the oversampling factor.
  const epochLength =
    o.sampling.kind === 'tumour-oversampling' ? 2 * positive.filter(Boolean).length : undefined;
  const modelConfig = {
    kind: 'segmenter',
    architecture: o.architecture,
    network: config,
    preprocess,
    // Replaced by the values chosen on validation when training ends.
    threshold: 0.5,
    postprocess: { threshold: 0.5, minComponentArea: 0, largest3DComponent: false, tta: 'none' },
    training: {
      ...trainingProvenance(data, o),
      loss: o.loss,
      sampling: o.sampling,
      augment: o.augment,
    },
  };
  const parallel = joinDataParallel(o.distributed, model, data, modelConfig);
  o.log(
    `segmenter: ${o.architecture} ×${o.width}${o.neighbours ? `, 2.5-D (${o.neighbours} neighbours each side)` : ''}, ${model.parameterCount().toLocaleString('en')} parameters, loss ${o.loss}, layout ${o.layout ?? DEFAULT_TRAINING_LAYOUT}, precision ${o.precision ?? DEFAULT_TRAINING_PRECISION}${parallel ? `, ${parallel.worldSize} processes` : ''}`,
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
    monitor: 'val_patient_dice',
    mode: 'max',
    log: o.log,
    modelConfig,
    parallel,
    trainEpoch: (epoch) =>
      trainEpoch({
        epoch,
        seed: o.seed,
        cache,
        train: data.train,
        sampling: o.sampling,
        epochLength,
        batch: o.batch,
        preprocess,
        volumeStats,
        augment: o.augment,
        optimizer,
        loss: (b) => segmentationLoss(o.loss, trainingForward(model, b.images, o.precision), b.masks!),
        log: o.log,
        parallel,
      }),
    validate: () => validateSegmenter(model, data, preprocess, volumeStats, o.batch, o.loss),
  });

  // Post-processing (threshold, small components, largest 3-D component, flip TTA) is chosen on validation with
  // the best weights, by per-volume Dice of the segmenter alone, and saved with them (by rank 0).
  const modelPath = join(o.out, 'best');
  const choosePostprocess = (): PostprocessChoice => {
    loadWeightsInto(modelPath, model);
    const volumesFor = (tta: TtaMode) => {
      o.log(`post-processing: segmenter on the ${data.val.length} validation slices (TTA ${tta})`);
      return validationVolumes(
        data,
        segmenterProbabilities(model, {
          cache,
          indices: data.val,
          preprocess,
          volumeStats,
          batchSize: o.batch,
          tta,
        }),
      );
    };
    const choice = choosePostprocessAndTta({ none: volumesFor('none'), flips: volumesFor('flips') });
    const saved = readModelConfig(modelPath);
    saveModel(modelPath, model, {
      ...saved,
      threshold: choice.config.threshold,
      postprocess: choice.config,
      postprocessRule:
        'the grid candidate with the best mean per-patient Dice of the segmenter alone on the validation split',
    });
    writeJsonAtomic(join(o.out, 'postprocess-choice.json'), {
      chosen: choice.config,
      meanPatientDice: choice.meanPatientDice,
      candidates: choice.candidates.map((c) => ({
        ...c.config,
        meanPatientDice: c.meanPatientDice,
        scoredPatients: c.scoredPatients,
      })),
    });
    const plain = choice.candidates.find(
      (c) =>
        c.config.threshold === 0.5 &&
        c.config.minComponentArea === 0 &&
        !c.config.largest3DComponent &&
        c.config.tta === 'none',
    );
    o.log(
      `post-processing: ${JSON.stringify(choice.config)}; validation per-patient Dice ${choice.meanPatientDice.toFixed(4)} (plain 0.5 threshold: ${plain?.meanPatientDice.toFixed(4) ?? 'n/a'})`,
    );
    return choice;
  };
  const postprocess = parallel
    ? parallel.group.fromRank0('post-processing', choosePostprocess)
    : choosePostprocess();
  return { ...result, postprocess };
}

/** Validation slices grouped into patient volumes (a patient's slices are contiguous and ordered in the cache). */
function validationVolumes(
  data: Pick<TrainingData, 'cache' | 'val'>,
  probs: Float32Array,
): ValidationVolume[] {
  const { cache, val } = data;
  const px = cache.width * cache.height;
  const positions = val.map((_, k) => k);
  return [...groupByPatient(positions, (k) => cache.patientIndex[val[k]!]!).values()].map((positions) => {
    const d = positions.length;
    const volumeProbs = new Float32Array(d * px);
    const truth = new Uint8Array(d * px);
    positions.forEach((k, z) => {
      volumeProbs.set(probs.subarray(k * px, (k + 1) * px), z * px);
      truth.set(cache.masks!.subarray(val[k]! * px, (val[k]! + 1) * px), z * px);
    });
    return { probs: volumeProbs, truth, d, h: cache.height, w: cache.width };
  });
}

/** Slice Dice/IoU over tumour slices, and Dice/IoU per patient volume over every slice. */
export function validateSegmenter(
  model: Module,
  data: Pick<TrainingData, 'cache' | 'val'>,
  preprocess: PreprocessConfig,
  volumeStats: ReturnType<typeof cacheVolumeStats>,
  batchSize: number,
  loss: SegmentationLossName,
): Record<string, number> {
  const { cache, val } = data;
  const px = cache.width * cache.height;
  // One pass gives both the masks at 0.5 and the training loss on validation (mean over slices), so that the
  // curves show the same loss on both splits.
  const masks = new Uint8Array(val.length * px);
  let lossSum = 0;
  model.eval();
  noGrad(() =>
    forEachBatch(val, batchSize, (batch, first) => {
      const b = assembleBatch(cache, batch, { preprocess, volumeStats });
      const logits = model.forward(b.images);
      lossSum += segmentationLoss(loss, logits, b.masks!).item() * batch.length;
      masks.set(F.sigmoid(logits).ge(0.5).to('uint8').contiguous().data() as Uint8Array, first * px);
    }),
  );
  const positions = val.map((_, k) => k);
  const volumes = [...groupByPatient(positions, (k) => cache.patientIndex[val[k]!]!).values()].map((volume) =>
    volume.map((k) =>
      maskOverlap(
        cache.masks!.subarray(val[k]! * px, (val[k]! + 1) * px),
        masks.subarray(k * px, (k + 1) * px),
      ),
    ),
  );
  const scores = segmentationScores(volumes);
  return {
    val_loss: lossSum / val.length,
    val_patient_dice: scores.meanPatientDice,
    val_patient_dice_median: scores.medianPatientDice,
    val_patient_iou: scores.meanPatientIoU,
    val_slice_dice: scores.meanSliceDice,
    val_slice_iou: scores.meanSliceIoU,
  };
}
