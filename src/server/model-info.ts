// GET /api/models: what the viewer shows about the two models, taken from their saved configs. `card` is the
// model JSON's `card` object (test metrics and the like) when it has one.
import { basename } from 'node:path';
import type { LoadedClassifier, LoadedSegmenter } from '../pipeline/load-model.ts';
import type { LoadedModels } from '../inference/predict-slices.ts';
import type { PostprocessConfig } from '../postprocess/config.ts';

export interface ClassifierInfo {
  /** The model's base file name (`classifier` for models/classifier). */
  name: string;
  architecture: string;
  /** The size slices are resized to before the network sees them. */
  inputSize: { width: number; height: number };
  /** P(tumour) >= threshold calls a slice tumour. */
  threshold: number;
  card: Record<string, unknown> | null;
}

export interface SegmenterInfo extends ClassifierInfo {
  postprocess: PostprocessConfig;
}

export interface ModelsInfo {
  classifier: ClassifierInfo;
  segmenter: SegmenterInfo;
}

function cardOf(config: Record<string, unknown>): Record<string, unknown> | null {
  const card = config['card'];
  return typeof card === 'object' && card !== null && !Array.isArray(card)
    ? (card as Record<string, unknown>)
    : null;
}

function common(model: LoadedClassifier | LoadedSegmenter): ClassifierInfo {
  return {
    name: basename(model.base),
    architecture: model.config.architecture,
    inputSize: { width: model.preprocess.width, height: model.preprocess.height },
    threshold: model.config.threshold,
    card: cardOf(model.config),
  };
}

export function modelsInfo(models: LoadedModels): ModelsInfo {
  return {
    classifier: common(models.classifier),
    segmenter: {
      ...common(models.segmenter),
      // The threshold that makes masks: the post-processing's, which may differ from the trained default.
      threshold: models.segmenter.postprocess.threshold,
      postprocess: models.segmenter.postprocess,
    },
  };
}
