// The two-stage core's runners on onnxruntime: exported model files (`tumorscope export`, or the server's
// GET /api/models/<role>.onnx) behind ClassifierRunner / SegmenterRunner, with the preprocessing, thresholds,
// post-processing and fusion rule read from each file's own metadata. onnxruntime-node and onnxruntime-web share
// the little of their API used here, so the page and Node run the same code.
import { inputChannels, type PreprocessConfig } from '../../data/preprocess.ts';
import type { ClassifierRunner, SegmenterRunner, TwoStageModels } from '../../inference/two-stage.ts';
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
  release?(): Promise<void>;
}

/** A runner holding an onnxruntime session: release() frees it (the page's sessions are kept for the page's life). */
export interface OnnxSession {
  release(): Promise<void>;
}

/** What is used of the onnxruntime module (`import * as ort from 'onnxruntime-node'` or '-web'). */
export interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(file: Uint8Array, options?: object): Promise<OrtSession> };
}

type Role = 'classifier' | 'segmenter';

/** A session of one model file with its metadata, and its network as (input [n, C, H, W], n) → flat output. */
async function openModel(ort: Ort, role: Role, file: Uint8Array, sessionOptions: object) {
  const metadata = readOnnxMetadata(file);
  if (metadata['kind'] !== role)
    throw new Error(`a ${String(metadata['kind'])} model was given as the ${role}`);
  const session = await ort.InferenceSession.create(file, sessionOptions);
  const input = String(metadata['input'] ?? session.inputNames[0]);
  const output = String(metadata['output'] ?? session.outputNames[0]);
  const preprocess = metadata['preprocess'] as PreprocessConfig;
  const run = async (data: Float32Array, n: number): Promise<Float32Array> => {
    const shape = [n, inputChannels(preprocess), preprocess.height, preprocess.width];
    const tensor = new ort.Tensor('float32', data, shape);
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
  const release = async () => {
    await session.release?.();
  };
  return { metadata, preprocess, run, release };
}

/** Stage 1 from its exported file: P(tumour), the column `tumourIndex` of the softmax output. */
export async function onnxClassifier(
  ort: Ort,
  file: Uint8Array,
  sessionOptions: object = {},
): Promise<ClassifierRunner & OnnxSession> {
  const c = await openModel(ort, 'classifier', file, sessionOptions);
  const tumourIndex = (c.metadata['tumourIndex'] as number | undefined) ?? 1;
  return {
    preprocess: c.preprocess,
    threshold: c.metadata['threshold'] as number,
    run: async (input, n) => {
      const output = await c.run(input, n);
      const classes = output.length / n;
      return Float32Array.from({ length: n }, (_, k) => output[k * classes + tumourIndex]!);
    },
    release: c.release,
  };
}

/** Stage 2 from its exported file, with its post-processing and fusion rule read from the metadata. */
export async function onnxSegmenter(
  ort: Ort,
  file: Uint8Array,
  sessionOptions: object = {},
): Promise<SegmenterRunner & OnnxSession> {
  const s = await openModel(ort, 'segmenter', file, sessionOptions);
  const fusion = s.metadata['fusion'];
  return {
    preprocess: s.preprocess,
    postprocess: parsePostprocessConfig(s.metadata['postprocess']),
    ...(fusion !== undefined ? { fusion: fusionConfigSchema.parse(fusion) } : {}),
    run: s.run,
    release: s.release,
  };
}

/** Both stages from their exported files. */
export async function onnxRunners(
  ort: Ort,
  files: { classifier: Uint8Array; segmenter: Uint8Array },
  sessionOptions: object = {},
): Promise<TwoStageModels> {
  const [classifier, segmenter] = await Promise.all([
    onnxClassifier(ort, files.classifier, sessionOptions),
    onnxSegmenter(ort, files.segmenter, sessionOptions),
  ]);
  return { classifier, segmenter };
}
