// summary.json of `tumorscope predict`: which models ran (their files and thresholds), the research-use notice,
// and per slice and per patient what the pipeline found. Paths of the PNGs are relative to the summary's folder.
import type { Problem } from '../data/errors.ts';
import type { PatientPrediction, SlicePrediction } from '../inference/predict-slices.ts';
import type { FusionConfig } from '../postprocess/fusion.ts';
import type { LoadedModels } from './load-model.ts';

export const RESEARCH_NOTICE = 'Research tool, not a medical device.';

export interface SliceSummary extends Omit<SlicePrediction, 'mask'> {
  /** The slice's file. */
  file: string;
  /** The PNGs written for a positive slice, relative to the output folder; null for the others. */
  mask: string | null;
  overlay: string | null;
}

export interface ModelSummary {
  base: string;
  files: { config: string; weights: string };
  architecture: string;
  inputSize: { width: number; height: number };
  /** Classifier: P(tumour) at or above it calls a slice positive. Segmenter: the pixel probability cut. */
  threshold: number;
}

export interface PredictSummary {
  notice: string;
  input: string;
  models: {
    classifier: ModelSummary;
    segmenter: ModelSummary & { postprocess: LoadedModels['segmenter']['postprocess'] };
  };
  /** The fusion rule that decided which slices hold tumour. */
  gate: FusionConfig;
  patients: PatientPrediction[];
  slices: SliceSummary[];
  /** Files left out with --skip-bad-files, each with what was wrong (empty without it: a bad file stops predict). */
  skipped: Problem[];
}

export function modelsSummary(models: LoadedModels): PredictSummary['models'] {
  const { classifier, segmenter } = models;
  const describe = (m: LoadedModels[keyof LoadedModels], threshold: number): ModelSummary => ({
    base: m.base,
    files: m.files,
    architecture: m.config.architecture,
    inputSize: { width: m.preprocess.width, height: m.preprocess.height },
    threshold,
  });
  return {
    classifier: describe(classifier, classifier.config.threshold),
    segmenter: {
      ...describe(segmenter, segmenter.postprocess.threshold),
      postprocess: segmenter.postprocess,
    },
  };
}
