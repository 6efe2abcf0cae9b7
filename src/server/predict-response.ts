// POST /api/predict's answer, built in the inference worker: uploads unpacked and decoded, both stages run, and
// the masks (and, with include=image, the slices) encoded as PNG data URIs, since browsers show neither raw
// bytes nor TIFF. The result is the finished JSON body, so the server thread only has to send it.
import sharp from 'sharp';
import { DataError } from '../data/errors.ts';
import type { DecodedImage } from '../data/image.ts';
import { type PredictOptions, predictSlices, type SliceInput } from '../inference/predict-slices.ts';
import { PREDICTION_NOTICE, type PredictResponse, type SliceResult } from '../inference/prediction-schema.ts';
import type { TwoStageModels } from '../inference/two-stage.ts';
import { maskPng } from '../pipeline/predict-images.ts';
import { type NamedBytes, sliceInputsFromFiles } from '../pipeline/slice-inputs.ts';
import { HttpError } from './http-error.ts';
import { type RequestLimits, tooManySlices } from './limits.ts';
import type { ModelsInfo } from './model-info.ts';
import { patientOfUploads, volumeResult, volumeSlices } from './volume-upload.ts';
import type { PredictJob } from './worker-protocol.ts';
import { zipSlices } from './zip-entries.ts';

const dataUri = (png: Uint8Array) => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;

function imagePng(image: DecodedImage): Promise<Buffer> {
  const { width, height, channels, data } = image;
  return sharp(data, { raw: { width, height, channels } }).png().toBuffer();
}

/** Every upload as named image bytes, zips unpacked; `source` says which upload each came from, for errors. */
function unpack(job: PredictJob, limits: RequestLimits): { files: NamedBytes[]; source: string[] } {
  const files: NamedBytes[] = [];
  const source: string[] = [];
  for (const upload of job.uploads) {
    const left = limits.maxSlices - files.length;
    if (upload.kind === 'image' && left < 1) throw tooManySlices(upload.name, limits.maxSlices);
    const found =
      upload.kind === 'zip'
        ? zipSlices(upload.name, upload.bytes, {
            maxUnpackedBytes: limits.maxUnpackedBytes,
            maxSlices: left,
            requestSlices: limits.maxSlices,
          })
        : [{ name: upload.name, bytes: upload.bytes }];
    files.push(...found);
    source.push(...found.map(() => (upload.kind === 'zip' ? `${upload.name}: ` : '')));
  }
  return { files, source };
}

/** The status of a data problem: too much of it is 413, an unusable volume 400, an unreadable file 415. */
function statusOf(err: DataError): HttpError['status'] {
  if (err.code === 'image-too-large' || err.code === 'too-many-slices' || err.code === 'too-many-pixels')
    return 413;
  if (err.code === 'mixed-slice-sizes') return 400;
  return 415;
}

/** The HttpError of a DataError about one of `files`, prefixed with the upload it came from. */
function httpErrorOf(err: DataError, files: readonly NamedBytes[], source: readonly string[]): HttpError {
  const k = files.findIndex((f) => f.name === err.file || f.name.split(/[\\/]/).pop() === err.file);
  return new HttpError(statusOf(err), `${k >= 0 ? source[k] : ''}${err.message}`);
}

async function decode(files: NamedBytes[], source: string[]): Promise<SliceInput[]> {
  try {
    return await sliceInputsFromFiles(files);
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    // A file that sniffed as an image but does not decode (truncated, corrupt, unsupported), or a mask.
    throw httpErrorOf(err, files, source);
  }
}

async function predict(
  models: TwoStageModels,
  inputs: SliceInput[],
  options: PredictOptions,
  files: readonly NamedBytes[],
  source: readonly string[],
) {
  try {
    return await predictSlices(models, inputs, options);
  } catch (err) {
    // A volume too large or of mixed sizes.
    if (err instanceof DataError) throw httpErrorOf(err, files, source);
    // predictSlices names the input at fault when the inputs are the problem (a slice given twice).
    const message = (err as Error).message;
    if (inputs.some((s) => message.startsWith(`${s.name}: `))) throw new HttpError(400, message);
    throw err;
  }
}

export async function predictResponse(
  models: TwoStageModels,
  info: ModelsInfo,
  job: PredictJob,
  options: RequestLimits & PredictOptions,
): Promise<Uint8Array> {
  const patient = patientOfUploads(job.uploads, options);
  const { files, source } = patient ? { files: [], source: [] } : unpack(job, options);
  const inputs = patient ? volumeSlices(patient, options.maxSlices) : await decode(files, source);
  const { batch, fusion, onProgress, beforeBatch } = options;
  const prediction = await predict(models, inputs, { batch, fusion, onProgress, beforeBatch }, files, source);
  const images = new Map(inputs.map((s) => [`${s.patient}\0${s.sliceNumber}`, s.image]));
  const slices = await Promise.all(
    prediction.slices.map(async (s): Promise<SliceResult> => {
      const { mask, ...rest } = s;
      const result: SliceResult = {
        ...rest,
        mask: mask ? dataUri(await maskPng(mask, s.width, s.height)) : null,
      };
      const image = images.get(`${s.patient}\0${s.slice}`);
      if (job.includeImage && image) result.image = dataUri(await imagePng(image));
      return result;
    }),
  );
  const response: PredictResponse = {
    notice: PREDICTION_NOTICE,
    models: { classifier: info.classifier.name, segmenter: info.segmenter.name },
    gate: prediction.gate,
    patients: prediction.patients,
    slices,
    ...(patient ? { volume: volumeResult(patient, prediction.slices, job.includeVolume) } : {}),
  };
  return new TextEncoder().encode(JSON.stringify(response));
}
