// tumorscope as a library (`import { predict, loadModels, evaluate } from 'tumorscope'`): the same stages the
// command line runs, for another Node project. The package ships these compiled to JavaScript with their types
// (dist/, built by `npm run build:lib`, and by `npm pack` before packing); inside this repository the sources run
// through tsx as the rest of the project does. Research tool, not a medical device.

import { INFERENCE_BATCH, loadModels } from './pipeline/default-models.ts';
import { type EvaluateOptions, type EvaluateResult, evaluatePipeline } from './pipeline/evaluate.ts';
import type { LoadedModels } from './pipeline/load-model.ts';
import { type PredictFilesResult, predictFiles } from './pipeline/predict-files.ts';
import { predictVolume } from './pipeline/predict-volume.ts';
import { type GateChoice, resolveGate } from './postprocess/fusion.ts';
import { isVolumePath, type VolumeSources } from './volume/read-patient.ts';

export type { MetricsJson } from './eval/metrics-json.ts';
export type { PatientPrediction, SliceResult } from './inference/prediction-schema.ts';
export { PREDICTION_NOTICE } from './inference/prediction-schema.ts';
export { loadModels, type ModelChoice } from './pipeline/default-models.ts';
export type { EvaluateResult } from './pipeline/evaluate.ts';
export type { LoadedModels } from './pipeline/load-model.ts';
export type { PredictFilesResult } from './pipeline/predict-files.ts';
export type { PredictSummary, SliceSummary } from './pipeline/predict-summary.ts';
export type { VolumePredictSummary } from './pipeline/predict-volume.ts';
export type { FusionConfig, GateChoice } from './postprocess/fusion.ts';
export type { VolumeSources } from './volume/read-patient.ts';

export interface PredictOptions {
  /** Where summary.json, the mask and overlay PNGs (and mask.nii.gz for a volume) are written. */
  out: string;
  /** Both stages, from loadModels(); loaded here (the shipped models) when absent. */
  models?: LoadedModels;
  /** Another fusion of the two stages than the one saved with the models (the CLI's --gate). */
  gate?: GateChoice;
  /** Slices per network call. */
  batch?: number;
  /** Slices only: warn about bad files (to `warn`) and go on without them instead of stopping. */
  skipBadFiles?: boolean;
  warn?: (message: string) => void;
  /** Volumes only: also write the per-voxel tumour probability. */
  saveProbabilities?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * `tumorscope predict` as a function. `input` is a slice (TIFF, PNG or JPEG), a patient folder, a kaggle_3m
 * folder, a 4-D NIfTI volume, or a patient's sequences apart ({ flair, pre?, post? }, NIfTI files or DICOM
 * folders). Writes the files into `out` whole or not at all and returns summary.json's content.
 */
export async function predict(
  input: string | VolumeSources,
  options: PredictOptions,
): Promise<PredictFilesResult> {
  const models = options.models ?? loadModels();
  const fusion = resolveGate(models.segmenter.fusion, models.classifier.config.threshold, options.gate);
  const batch = options.batch ?? INFERENCE_BATCH;
  const progress = options.onProgress ? { onProgress: options.onProgress } : {};
  const volume = typeof input !== 'string' || isVolumePath(input);
  if (options.saveProbabilities && !volume) {
    throw new TypeError(`${input}: saveProbabilities writes a NIfTI volume: it needs a volume as the input`);
  }
  if (volume) {
    return predictVolume({
      sources: typeof input === 'string' ? { volume: input } : input,
      out: options.out,
      models,
      fusion,
      batch,
      saveProbabilities: options.saveProbabilities ?? false,
      ...progress,
    });
  }
  return predictFiles({
    input,
    out: options.out,
    models,
    fusion,
    batch,
    skipBadFiles: options.skipBadFiles ?? false,
    ...(options.warn ? { warn: options.warn } : {}),
    ...progress,
  });
}

/**
 * `tumorscope evaluate` as a function: both stages on slices with ground-truth masks, scored, and metrics.json,
 * curves.json, figures/ and report.html written into `out`. The shipped models unless `classifier` /
 * `segmenter` name others; quiet unless `log` is given.
 */
export function evaluate(
  options: Omit<EvaluateOptions, 'batch' | 'log'> & { batch?: number; log?: (line: string) => void },
): Promise<EvaluateResult> {
  return evaluatePipeline({ ...options, batch: options.batch ?? 16, log: options.log ?? (() => {}) });
}
