// Reading POST /api/predict's form: the repeated field `files`, each an image (TIFF, PNG or JPEG) or a .zip of
// them. Only bytes and names are kept, in memory: a name is shown in results and errors, never used as a path,
// and nothing is written to disk. Files are told apart by their first bytes, as the data layer does, so every
// refusal here is cheap and happens before the job takes a place in the queue; decoding happens in the worker.

import { sniffFormat } from '../data/read-image.ts';
import { parseSliceName } from '../data/slice-names.ts';
import { isNiftiName } from '../volume/nifti.ts';
import { SEQUENCES, type Sequence } from '../volume/patient-volume.ts';
import { HttpError } from './http-error.ts';
import type { Part } from './multipart.ts';

export const FILES_FIELD = 'files';

/** Form fields that take one MRI sequence each, as a NIfTI volume. */
export const SEQUENCE_FIELDS: readonly Sequence[] = SEQUENCES;

export interface Upload {
  /** The client's file name, reduced to printable characters and its last path segment. */
  name: string;
  kind: 'image' | 'zip' | 'volume';
  bytes: Uint8Array;
  /** For a volume sent in field 'pre', 'flair' or 'post': that sequence. */
  sequence?: Sequence;
}

/** A client's file name made safe to print: no control characters, no folders, never empty. */
export function displayName(raw: string, fallback: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  const clean = raw.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  const last = clean.split(/[\\/]/).filter(Boolean).pop() ?? '';
  return last.slice(-200) || fallback;
}

/** A ground-truth mask of the kaggle_3m layout (`<patient>_<n>_mask.tif`), which is not a slice to predict. */
export function isMaskName(name: string): boolean {
  return parseSliceName(name).isMask;
}

export function isZip(bytes: Uint8Array): boolean {
  // A local file header, or the end-of-central-directory record of an empty archive.
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}

export function notAnImage(name: string, bytes: Uint8Array, what: string): HttpError {
  if (bytes.length === 0) return new HttpError(415, `${name}: empty file, not ${what}`);
  const head = Buffer.from(bytes.subarray(0, 8)).toString('hex');
  return new HttpError(415, `${name}: not ${what}; it starts with 0x${head}`);
}

/** Checks one uploaded file: an image or a zip, and not a mask. */
export function classifyUpload(name: string, bytes: Uint8Array): Upload {
  if (isZip(bytes)) return { name, kind: 'zip', bytes };
  if (isNiftiName(name)) {
    const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    const magic = new TextDecoder().decode(bytes.subarray(344, 347));
    if (!gzip && magic !== 'n+1' && magic !== 'n+2') throw notAnImage(name, bytes, 'a NIfTI volume');
    return { name, kind: 'volume', bytes };
  }
  if (isMaskName(name)) {
    throw new HttpError(
      415,
      `${name}: a ground-truth mask (…_mask), not a slice to predict; upload the slice images only ` +
        '(masks inside a .zip are skipped)',
    );
  }
  if (sniffFormat(bytes) === undefined)
    throw notAnImage(name, bytes, 'an image (TIFF, PNG or JPEG) or a .zip of them');
  return { name, kind: 'image', bytes };
}

/** The uploads of a multipart form's parts; 400 for a form without files, 415 for a non-image. */
export function readUploads(parts: readonly Part[]): Upload[] {
  const fields: readonly string[] = [FILES_FIELD, ...SEQUENCE_FIELDS];
  const entries = parts.filter((p) => fields.includes(p.name));
  if (entries.length === 0) {
    const fields = [...new Set(parts.map((p) => p.name))];
    throw new HttpError(
      400,
      `no files: send the slices as multipart/form-data field '${FILES_FIELD}' (TIFF, PNG or JPEG images, or a .zip)` +
        (fields.length > 0 ? `; the form has only ${fields.map((f) => `'${f}'`).join(', ')}` : ''),
    );
  }
  return entries.map((entry, i) => {
    if (entry.filename === undefined) {
      throw new HttpError(400, `field '${FILES_FIELD}' #${i + 1} is text, not a file`);
    }
    const upload = classifyUpload(displayName(entry.filename, `upload ${i + 1}`), entry.data);
    if (entry.name === FILES_FIELD) return upload;
    if (upload.kind !== 'volume')
      throw notAnImage(upload.name, upload.bytes, `a NIfTI volume for field '${entry.name}'`);
    return { ...upload, sequence: entry.name as Sequence };
  });
}
