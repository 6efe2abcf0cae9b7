// A saved model (`<base>.json` + `.safetensors`, as load-model.ts reads it) as an ONNX file whose metadata
// carries what inference needs besides the graph: preprocessing, threshold(s), post-processing, class names.
import type { LoadedModel } from '../../pipeline/load-model.ts';
import { TUMORSCOPE_VERSION } from '../version.ts';
import {
  architectureOf,
  CLASSIFIER_OUTPUT,
  exportNetworkToOnnx,
  INPUT_NAME,
  SEGMENTER_OUTPUT,
} from './export-network.ts';
import { encodeMetadata } from './metadata.ts';

/** The metadata values (before JSON encoding) of a loaded model's export. */
export function modelMetadata(m: LoadedModel): Record<string, unknown> {
  const common = {
    version: TUMORSCOPE_VERSION,
    kind: m.kind,
    architecture: architectureOf(m.model),
    input: INPUT_NAME,
    preprocess: m.preprocess,
    threshold: m.config.threshold,
  };
  if (m.kind === 'classifier') {
    return {
      ...common,
      output: CLASSIFIER_OUTPUT,
      network: m.config.densenet,
      classes: m.config['classes'],
      // P(tumour) is this column of the output; predict tumour iff it is >= threshold.
      tumourIndex: 1,
      thresholdRule: m.config['thresholdRule'],
    };
  }
  return {
    ...common,
    output: SEGMENTER_OUTPUT,
    network: m.config.network,
    postprocess: m.postprocess,
    // The fusion of the two stages saved with the pair; absent: the classifier alone decides.
    ...(m.fusion ? { fusion: m.fusion } : {}),
  };
}

export function exportModelToOnnx(m: LoadedModel): Uint8Array {
  m.model.eval();
  return exportNetworkToOnnx({
    network: m.model,
    height: m.preprocess.height,
    width: m.preprocess.width,
    metadata: encodeMetadata(modelMetadata(m)),
    producerVersion: TUMORSCOPE_VERSION,
    docString: `tumorscope ${m.kind} (${architectureOf(m.model)}), exported from ${m.base}`,
  });
}
