// The models prediction uses: the ones given, or those shipped in the repository's models/ folder. The folder is
// found from this file's location, not the working directory, so `tumorscope predict` works from anywhere.
import { fileURLToPath } from 'node:url';
import {
  buildModel,
  type ClassifierSpec,
  type LoadedModels,
  readModelSpec,
  type SegmenterSpec,
} from './load-model.ts';

/** models/ at the repository root. */
export const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

export const SHIPPED_MODELS = {
  classifier: `${SHIPPED_MODELS_DIR}classifier`,
  segmenter: `${SHIPPED_MODELS_DIR}segmenter`,
} as const;

/**
 * Slices per inference batch for predict and serve. Small batches win on CPU: with flip TTA (4 segmenter passes) a
 * batch of 16 peaks at 1.6 GB and runs slower than batches of 4 (0.8 GB) on a 36-slice patient; see docs/PREDICT.md.
 */
export const INFERENCE_BATCH = 4;

export interface ModelChoice {
  /** Model base paths (with or without .json / .safetensors); the shipped model when absent. */
  classifier?: string;
  segmenter?: string;
}

/**
 * Loads both stages for inference (batch norms folded, channels-last: see buildModel). Both configs are checked
 * before either network is built, so a bad segmenter fails at once; every error names the file at fault
 * (load-model.ts).
 */
export function loadModels(choice: ModelChoice = {}): LoadedModels {
  const classifierSpec = readModelSpec(choice.classifier ?? SHIPPED_MODELS.classifier, 'classifier');
  const segmenterSpec = readModelSpec(choice.segmenter ?? SHIPPED_MODELS.segmenter, 'segmenter');
  return {
    classifier: buildModel(classifierSpec as ClassifierSpec, { inference: true }),
    segmenter: buildModel(segmenterSpec as SegmenterSpec, { inference: true }),
  };
}
