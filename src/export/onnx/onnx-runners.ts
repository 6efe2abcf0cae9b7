// The two-stage core's runners on onnxruntime: exported model files (`tumorscope export`, or the server's
// GET /api/models/<role>.onnx) behind ClassifierRunner / SegmenterRunner, with the preprocessing, thresholds,
// post-processing and fusion rule read from each file's own metadata. onnxruntime-node and onnxruntime-web share
// the little of their API used here, so the page and Node run the same code.
import type { PreprocessConfig } from '../../data/preprocess.ts';
import type { TwoStageModels } from '../../inference/two-stage.ts';
import { parsePostprocessConfig } from '../../postprocess/config.ts';
import { fusionConfigSchema } from '../../postprocess/fusion.ts';
import { readOnnxMetadata } from './metadata.ts';

/** What is used of an onnxruntime tensor. */
export interface OrtTensor {
  getData(): Promise<unknown>;
  dispose(): void;
}

/** What is used of an onnxruntime inference session. */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}

/** What is used of the onnxruntime module (`import * as ort from 'onnxruntime-node'` or '-web'). */
export interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(file: Uint8Array, options?: object): Promise<OrtSession> };
}

type Role = 'classifier' | 'segmenter';

/** A session of one model file with its metadata, and its network as (input [n, 3, H, W], n) → flat output. */
async function openModel(ort: Ort, role: Role, file: Uint8Array, sessionOptions: object) {
  const metadata = readOnnxMetadata(file);
  if (metadata['kind'] !== role)
    throw new Error(`a ${String(metadata['kind'])} model was given as the ${role}`);
  const session = await ort.InferenceSession.create(file, sessionOptions);
  const input = String(metadata['input'] ?? session.inputNames[0]);
  const output = String(metadata['output'] ?? session.outputNames[0]);
  const preprocess = metadata['preprocess'] as PreprocessConfig;
  const run = async (data: Float32Array, n: number): Promise<Float32Array> => {
    const tensor = new ort.Tensor('float32', data, [n, 3, preprocess.height, preprocess.width]);
    try {
      const result = (await session.run({ [input]: tensor }))[output];
      if (!result) throw new Error(`the ${role} model has no output ${output}`);
      const values = (await result.getData()) as Float32Array;
      result.dispose();
      return values;
    } finally {
      tensor.dispose();
    }
  };
  return { metadata, preprocess, run };
}

/** Both stages from their exported files. */
export async function onnxRunners(
  ort: Ort,
  files: { classifier: Uint8Array; segmenter: Uint8Array },
  sessionOptions: object = {},
): Promise<TwoStageModels> {
  const [c, s] = await Promise.all([
    openModel(ort, 'classifier', files.classifier, sessionOptions),
    openModel(ort, 'segmenter', files.segmenter, sessionOptions),
  ]);
  // The classifier's output is the softmax over its classes; P(tumour) is this column.
  const tumourIndex = (c.metadata['tumourIndex'] as number | undefined) ?? 1;
  const fusion = s.metadata['fusion'];
  return {
    classifier: {
      preprocess: c.preprocess,
      threshold: c.metadata['threshold'] as number,
      run: async (input, n) => {
        const output = await c.run(input, n);
        const classes = output.length / n;
        return Float32Array.from({ length: n }, (_, k) => output[k * classes + tumourIndex]!);
      },
    },
    segmenter: {
      preprocess: s.preprocess,
      postprocess: parsePostprocessConfig(s.metadata['postprocess']),
      ...(fusion !== undefined ? { fusion: fusionConfigSchema.parse(fusion) } : {}),
      run: s.run,
    },
  };
}
