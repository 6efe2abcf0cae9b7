// The two-stage core's runners on libtorch (Node): a loaded network behind ClassifierRunner / SegmenterRunner.
import type { PreprocessConfig } from '../data/preprocess.ts';
import type { Module } from '../engine/index.ts';
import type { PostprocessConfig } from '../postprocess/config.ts';
import type { FusionConfig } from '../postprocess/fusion.ts';
import { libtorchNetwork } from './network-outputs.ts';
import type { ClassifierRunner, SegmenterRunner, TwoStageModels } from './two-stage.ts';

export interface LibtorchStage {
  model: Module;
  preprocess: PreprocessConfig;
}

export function libtorchClassifier(stage: LibtorchStage & { threshold: number }): ClassifierRunner {
  return {
    preprocess: stage.preprocess,
    threshold: stage.threshold,
    run: libtorchNetwork(stage.model, 'classifier', stage.preprocess),
  };
}

export function libtorchSegmenter(
  stage: LibtorchStage & { postprocess: PostprocessConfig; fusion?: FusionConfig },
): SegmenterRunner {
  return {
    preprocess: stage.preprocess,
    postprocess: stage.postprocess,
    ...(stage.fusion ? { fusion: stage.fusion } : {}),
    run: libtorchNetwork(stage.model, 'segmenter', stage.preprocess),
  };
}

export function libtorchRunners(
  classifier: Parameters<typeof libtorchClassifier>[0],
  segmenter: Parameters<typeof libtorchSegmenter>[0],
): TwoStageModels {
  return { classifier: libtorchClassifier(classifier), segmenter: libtorchSegmenter(segmenter) };
}
