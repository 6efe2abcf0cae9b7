// Tiny untrained models saved as training saves them, whose saved thresholds fix the outcome instead of their
// weights: classifier threshold 0 calls every slice tumour (1 calls none), segmenter threshold 0 marks every
// pixel. For tests of what surrounds the models (files, errors, limits), where training would only cost time.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RESCALE_256 } from '../../src/data/preprocess.ts';
import { saveModel } from '../../src/engine/index.ts';
import { DenseNet } from '../../src/models/densenet.ts';
import { ResUNet } from '../../src/models/resunet.ts';

/** Tiny untrained models, saved as training saves them, with the given threshold and input sizes. */
export function saveTinyModels(
  dir: string,
  classifierThreshold: number,
  sizes: { classifier: number; segmenter: number } = { classifier: 16, segmenter: 24 },
): { classifier: string; segmenter: string } {
  mkdirSync(dir, { recursive: true });
  const densenet = {
    growthRate: 4,
    blockConfig: [2, 2],
    numInitFeatures: 8,
    bnSize: 2,
    dropRate: 0,
    numClasses: 2 as const,
    headDropout: 0,
    headHidden: 0,
  };
  const classifier = join(dir, `classifier-${classifierThreshold}`);
  saveModel(classifier, new DenseNet(densenet), {
    kind: 'classifier',
    architecture: 'densenet121',
    densenet,
    preprocess: { ...RESCALE_256, width: sizes.classifier, height: sizes.classifier },
    threshold: classifierThreshold,
  });
  const network = { inChannels: 3, outChannels: 1, features: 4, depth: 2 };
  const segmenter = join(dir, 'segmenter');
  saveModel(segmenter, new ResUNet(network), {
    kind: 'segmenter',
    architecture: 'resunet',
    network,
    preprocess: { ...RESCALE_256, width: sizes.segmenter, height: sizes.segmenter },
    threshold: 0,
    postprocess: { threshold: 0 },
  });
  return { classifier, segmenter };
}
