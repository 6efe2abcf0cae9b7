// GET /api/models: what the viewer shows about the two models, taken from their saved configs (shapes in
// api-schema.ts). `card` is the model JSON's `card` object (test metrics and the like) when it has one.
import { basename } from 'node:path';
import type { LoadedClassifier, LoadedModels, LoadedSegmenter } from '../pipeline/load-model.ts';
import type { FusionConfig } from '../postprocess/fusion.ts';
import type { ModelInfo, ModelsInfo } from './api-schema.ts';

export type { ModelsInfo };

function cardOf(config: Record<string, unknown>): Record<string, unknown> | null {
  const card = config['card'];
  return typeof card === 'object' && card !== null && !Array.isArray(card)
    ? (card as Record<string, unknown>)
    : null;
}

function common(model: LoadedClassifier | LoadedSegmenter): ModelInfo {
  return {
    name: basename(model.base),
    architecture: model.config.architecture,
    inputSize: { width: model.preprocess.width, height: model.preprocess.height },
    threshold: model.config.threshold,
    card: cardOf(model.config),
  };
}

export function modelsInfo(models: LoadedModels, gate: FusionConfig): ModelsInfo {
  return {
    classifier: common(models.classifier),
    segmenter: {
      ...common(models.segmenter),
      // The threshold that makes masks: the post-processing's, which may differ from the trained default.
      threshold: models.segmenter.postprocess.threshold,
      postprocess: models.segmenter.postprocess,
    },
    gate,
  };
}
