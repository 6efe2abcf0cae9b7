// In-browser inference: the same `InferenceBackend` as the HTTP one, but the slices never leave the page. The
// two models come once from the server as ONNX files (GET /api/models/<role>.onnx, exported from the models it
// runs), whose metadata carries preprocessing, thresholds and post-processing; onnxruntime-web (WebAssembly,
// one thread) runs the networks, and the server's own code does everything around them (local-pipeline.ts),
// TIFF decoding included. Health, the model description and the gate still come from the server.
import type { DecodedImage } from '../../src/data/image.ts';
import { decodeTiff, isTiff } from '../../src/data/tiff.ts';
import { type Ort, onnxRunners } from '../../src/export/onnx/onnx-runners.ts';
import { PREDICTION_NOTICE } from '../../src/inference/prediction-schema.ts';
import type { TwoStageModels } from '../../src/inference/two-stage.ts';
import { ApiError, type InferenceBackend, isSeriesInput, type PredictInput } from './api.ts';
import type { PredictResponse, SlicePrediction } from './api-types.ts';
import { unzipSlices } from './browser-files.ts';
import { type LocalSlice, predictLocally } from './local-pipeline.ts';
import { isNiftiFileName } from './upload-plan.ts';

type Role = 'classifier' | 'segmenter';

let ortModule: Promise<Ort> | undefined;

/** onnxruntime-web, loaded on first use (it is large), WebAssembly on one thread. */
function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-web/wasm').then((ort) => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    return ort as unknown as Ort;
  });
  return ortModule;
}

/** A model file as the server exported it from the models it runs. */
async function fetchModel(base: string, role: Role): Promise<Uint8Array> {
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
  return new Uint8Array(await response.arrayBuffer());
}

async function loadRunners(base: string): Promise<TwoStageModels> {
  const [classifier, segmenter] = await Promise.all([
    fetchModel(base, 'classifier'),
    fetchModel(base, 'segmenter'),
  ]);
  return onnxRunners(
    await loadOrt(),
    { classifier, segmenter },
    { executionProviders: ['wasm'], graphOptimizationLevel: 'all' },
  );
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
  let runners: Promise<TwoStageModels> | undefined;
  const loadModels = () => {
    runners ??= loadRunners(base);
    // A failed load is tried again next time.
    runners.catch(() => {
      runners = undefined;
    });
    return runners;
  };
  return {
    health: (signal) => server.health(signal),
    models: (signal) => server.models(signal),
    async predict(input: PredictInput, signal?: AbortSignal): Promise<PredictResponse> {
      if (isSeriesInput(input))
        throw new Error('DICOM series are run on the server only; choose "On the server"');
      const sent = [...input.files, ...Object.values(input.sequences ?? {})];
      const volume = sent.find((f) => isNiftiFileName(f.name));
      // The volume reader (src/volume) runs in Node only; nothing is sent without the user's choice.
      if (volume)
        throw new Error(`${volume.name}: NIfTI volumes are run on the server only; choose "On the server"`);
      const [models, info] = await Promise.all([loadModels(), server.models(signal)]);
      const slices: LocalSlice[] = [];
      for (const file of input.files) {
        const bytes = new Uint8Array(await file.arrayBuffer());
        const named = /\.zip$/i.test(file.name)
          ? unzipSlices(file.name, bytes)
          : [{ name: file.name, bytes }];
        for (const { name, bytes } of named) slices.push({ name, image: await decodeImage(name, bytes) });
      }
      signal?.throwIfAborted();
      // The server's gate, so that a `serve --gate` applies here as well.
      const prediction = await predictLocally(slices, models, { fusion: info.gate });
      signal?.throwIfAborted();
      return {
        notice: PREDICTION_NOTICE,
        models: { classifier: info.classifier.name, segmenter: info.segmenter.name },
        gate: prediction.gate,
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
