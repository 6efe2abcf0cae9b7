// In-browser inference: the same `InferenceBackend` as the HTTP one, but the slices never leave the page. The
// two models come once from the server as ONNX files (GET /api/models/<role>.onnx, exported from the models it
// runs), whose metadata carries preprocessing, thresholds and post-processing; onnxruntime-web (WebAssembly,
// one thread) runs the networks, and local-pipeline.ts does everything around them as the server does.
// Health and the model description still come from the server that serves the page.
import type * as Ort from 'onnxruntime-web';
import type { DecodedImage } from '../../src/data/image.ts';
import type { PreprocessConfig } from '../../src/data/preprocess.ts';
import { readOnnxMetadata } from '../../src/export/onnx/metadata.ts';
import type { PostprocessConfig } from '../../src/postprocess/config.ts';
import { ApiError, type InferenceBackend, type PredictInput } from './api.ts';
import type { PredictResponse, SlicePrediction } from './api-types.ts';
import { unzipSlices } from './browser-files.ts';
import { type LocalSlice, predictLocally, type RunModel } from './local-pipeline.ts';
import { decodeTiff, isTiff } from '../../src/data/tiff.ts';

/** The server's notice (src/server/predict-response.ts), given with every answer. */
export const NOTICE =
  'Research tool, not a medical device. These results must not be used to diagnose, treat or make any ' +
  'clinical decision.';

type Role = 'classifier' | 'segmenter';

interface LoadedOnnx {
  metadata: Record<string, unknown>;
  run: RunModel;
}

let ortModule: Promise<typeof Ort> | undefined;

/** onnxruntime-web, loaded on first use (it is large), WebAssembly on one thread. */
function loadOrt(): Promise<typeof Ort> {
  ortModule ??= import('onnxruntime-web/wasm').then((ort) => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    return ort;
  });
  return ortModule;
}

async function loadModel(base: string, role: Role): Promise<LoadedOnnx> {
  const url = `${base}/api/models/${role}.onnx`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new ApiError(0, `cannot fetch the ${role} model (${(err as Error).message})`);
  }
  if (!response.ok) {
    const text = await response.text();
    let message = text.trim().slice(0, 300);
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message;
    } catch {}
    throw new ApiError(response.status, `the ${role} model: ${message}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const metadata = readOnnxMetadata(bytes);
  if (metadata['kind'] !== role)
    throw new Error(`${url} is a ${String(metadata['kind'])} model, not the ${role}`);
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const input = String(metadata['input'] ?? session.inputNames[0]);
  const output = String(metadata['output'] ?? session.outputNames[0]);
  const { width, height } = metadata['preprocess'] as PreprocessConfig;
  const run: RunModel = async (data, n) => {
    const tensor = new ort.Tensor('float32', data, [n, 3, height, width]);
    const results = await session.run({ [input]: tensor });
    const result = results[output];
    if (!result) throw new Error(`the ${role} model has no output ${output}`);
    const values = (await result.getData()) as Float32Array;
    tensor.dispose();
    result.dispose();
    return values;
  };
  return { metadata, run };
}

async function decodeImage(name: string, bytes: Uint8Array): Promise<DecodedImage> {
  if (isTiff(bytes)) return decodeTiff(bytes, name);
  const png = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!png && !jpeg) {
    const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
    throw new ApiError(415, `${name}: not an image (TIFF, PNG or JPEG); it starts with 0x${head}`);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch (err) {
    throw new ApiError(415, `${name}: the browser cannot decode it (${(err as Error).message})`);
  }
  const { width, height } = bitmap;
  const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true })!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[3 * i] = rgba[4 * i]!;
    data[3 * i + 1] = rgba[4 * i + 1]!;
    data[3 * i + 2] = rgba[4 * i + 2]!;
  }
  return { width, height, channels: 3, data, sourceBits: 8 };
}

/** A PNG data URL of gray (1 channel) or RGB bytes, or of a 0/1 mask drawn as 0/255. */
function pngDataUrl(width: number, height: number, channels: 1 | 3, data: Uint8Array, scale = 1): string {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++)
      pixels.data[4 * i + k] = data[i * channels + (channels === 3 ? k : 0)]! * scale;
    pixels.data[4 * i + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
  return canvas.toDataURL('image/png');
}

export function onnxBackend(server: InferenceBackend, base = ''): InferenceBackend {
  let models: Promise<{ classifier: LoadedOnnx; segmenter: LoadedOnnx }> | undefined;
  const loadModels = () => {
    models ??= Promise.all([loadModel(base, 'classifier'), loadModel(base, 'segmenter')]).then(
      ([classifier, segmenter]) => ({ classifier, segmenter }),
    );
    // A failed load is tried again next time.
    models.catch(() => {
      models = undefined;
    });
    return models;
  };
  return {
    health: (signal) => server.health(signal),
    models: (signal) => server.models(signal),
    async predict(input: PredictInput, signal?: AbortSignal): Promise<PredictResponse> {
      const [loaded, info] = await Promise.all([loadModels(), server.models(signal)]);
      const slices: LocalSlice[] = [];
      for (const file of input.files) {
        const bytes = new Uint8Array(await file.arrayBuffer());
        const named = /\.zip$/i.test(file.name)
          ? unzipSlices(file.name, bytes)
          : [{ name: file.name, bytes }];
        for (const { name, bytes } of named) slices.push({ name, image: await decodeImage(name, bytes) });
      }
      signal?.throwIfAborted();
      const c = loaded.classifier.metadata;
      const s = loaded.segmenter.metadata;
      const prediction = await predictLocally(slices, {
        classifier: {
          preprocess: c['preprocess'] as PreprocessConfig,
          threshold: c['threshold'] as number,
          tumourIndex: (c['tumourIndex'] as number | undefined) ?? 1,
          run: loaded.classifier.run,
        },
        segmenter: {
          preprocess: s['preprocess'] as PreprocessConfig,
          postprocess: s['postprocess'] as PostprocessConfig,
          run: loaded.segmenter.run,
        },
      });
      signal?.throwIfAborted();
      return {
        notice: NOTICE,
        models: { classifier: info.classifier.name, segmenter: info.segmenter.name },
        patients: prediction.patients,
        slices: prediction.slices.map(
          ({ image, mask, ...rest }): SlicePrediction => ({
            ...rest,
            mask: mask ? pngDataUrl(rest.width, rest.height, 1, mask, 255) : null,
            image: pngDataUrl(image.width, image.height, image.channels, image.data),
          }),
        ),
      };
    },
  };
}
