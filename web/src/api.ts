// The one place the viewer asks for predictions. `InferenceBackend` is what the page needs; `httpBackend`
// answers it from `tumorscope serve` (same origin); onnx-backend.ts answers it in the page (onnxruntime-web)
// with the same shapes.
import type { Sequence } from '../../src/volume/patient-volume.ts';
import type { Health, ModelsInfo, PredictResponse } from './api-types.ts';

/** A file with its path under what was opened (`P01/flair/IM0001`): the server names a DICOM patient by it. */
export interface PathedFile {
  file: File;
  path: string;
}

/**
 * What to send: image slices and/or zips of them, or one 4-D NIfTI volume, each as one `files` field of the
 * form; or NIfTI volumes of one sequence each, in the field named by the sequence; or the files of a DICOM series
 * per sequence, in the field named by the sequence (the answer then carries the volume the server read, as NIfTI,
 * since the page cannot read DICOM).
 */
export interface PredictInput {
  files: readonly File[];
  sequences?: Partial<Record<Sequence, File>>;
  series?: Partial<Record<Sequence, readonly PathedFile[]>>;
}

/** Whether the input is DICOM series. */
export function isSeriesInput(input: PredictInput): boolean {
  return Object.values(input.series ?? {}).some((files) => files.length > 0);
}

export interface InferenceBackend {
  health(signal?: AbortSignal): Promise<Health>;
  models(signal?: AbortSignal): Promise<ModelsInfo>;
  predict(input: PredictInput, signal?: AbortSignal): Promise<PredictResponse>;
}

/** An error answer from the API, with the message it gave (`{error}`) when it gave one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function readJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const message =
      typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
        ? (body as { error: string }).error
        : text.trim().slice(0, 300) || response.statusText || 'request failed';
    throw new ApiError(response.status, message);
  }
  if (body === undefined)
    throw new ApiError(response.status, 'the server answered with something other than JSON');
  return body as T;
}

async function request<T>(url: string, init: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, `cannot reach the server (${(err as Error).message})`);
  }
  return readJson<T>(response);
}

export function httpBackend(base = ''): InferenceBackend {
  return {
    health: (signal) => request<Health>(`${base}/api/health`, { signal }),
    models: (signal) => request<ModelsInfo>(`${base}/api/models`, { signal }),
    predict(input, signal) {
      const form = new FormData();
      for (const file of input.files) form.append('files', file, file.name);
      for (const [sequence, file] of Object.entries(input.sequences ?? {}))
        form.append(sequence, file, file.name);
      for (const [sequence, files] of Object.entries(input.series ?? {}))
        for (const { file, path } of files) form.append(sequence, file, path);
      const include = isSeriesInput(input) ? 'image,volume' : 'image';
      return request<PredictResponse>(`${base}/api/predict?include=${include}`, {
        method: 'POST',
        body: form,
        signal,
      });
    },
  };
}
