// Reading POST /api/predict's form: the repeated field `files`, each an image (TIFF, PNG or JPEG) or a .zip of
// them, or a 4-D NIfTI; or a patient's sequences in fields `flair`, `pre` and `post`, each one NIfTI volume or the
// files of one DICOM series (or a .zip of its folder). Only bytes and names are kept, in memory: a name is shown
// in results and errors, never used as a path, and nothing is written to disk. Files are told apart by their first
// bytes, as the data layer does, so every refusal here is cheap and happens before the job takes a place in the
// queue; decoding happens in the worker.

import { sniffFormat } from '../data/read-image.ts';
import { parseSliceName } from '../data/slice-names.ts';
import { isDicomBytes } from '../volume/dicom-magic.ts';
import { isNiftiName } from '../volume/nifti.ts';
import { SEQUENCES, type Sequence } from '../volume/patient-volume.ts';
import { HttpError } from './http-error.ts';
import type { Part } from './multipart.ts';

export const FILES_FIELD = 'files';

/** Form fields that take one MRI sequence each: a NIfTI volume, the files of a DICOM series or a .zip of them. */
export const SEQUENCE_FIELDS: readonly Sequence[] = SEQUENCES;

export interface Upload {
  /** The client's file name, reduced to printable characters and its last path segment. */
  name: string;
  kind: 'image' | 'zip' | 'volume' | 'dicom';
  bytes: Uint8Array;
  /** For a volume, DICOM file or zipped series sent in field 'pre', 'flair' or 'post': that sequence. */
  sequence?: Sequence;
  /** The folders of the client's file name (`TCGA_CS_4941/flair`), when it gave any: they name a DICOM patient. */
  folder?: string;
}

/** The segments of a client's file name, without control characters. */
function pathSegments(raw: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  const clean = raw.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean.split(/[\\/]/).filter((s) => s !== '' && s !== '.' && s !== '..');
}

/** A client's file name made safe to print: no control characters, no folders, never empty. */
export function displayName(raw: string, fallback: string): string {
  return (pathSegments(raw).pop() ?? '').slice(-200) || fallback;
}

/** The folders of a client's file name, made safe to print (the last two at most); '' for a bare name. */
export function displayFolder(raw: string): string {
  return pathSegments(raw).slice(0, -1).slice(-2).join('/').slice(-200);
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

/** A file named as NIfTI that starts as one (gzip'd, or the n+1/n+2 magic), or undefined. */
function niftiUpload(name: string, bytes: Uint8Array): Upload | undefined {
  if (!isNiftiName(name)) return undefined;
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  const magic = new TextDecoder().decode(bytes.subarray(344, 347));
  if (!gzip && magic !== 'n+1' && magic !== 'n+2') throw notAnImage(name, bytes, 'a NIfTI volume');
  return { name, kind: 'volume', bytes };
}

/** Checks one uploaded file of field 'files': an image, a zip or a NIfTI volume, and not a mask. */
export function classifyUpload(name: string, bytes: Uint8Array): Upload {
  if (isZip(bytes)) return { name, kind: 'zip', bytes };
  if (isDicomBytes(bytes)) {
    throw new HttpError(
      400,
      `${name}: a DICOM file in field '${FILES_FIELD}'; send a DICOM series as its files in field ` +
        "'flair' (and 'pre', 'post': one field per sequence)",
    );
  }
  const nifti = niftiUpload(name, bytes);
  if (nifti) return nifti;
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
    const name = displayName(entry.filename, `upload ${i + 1}`);
    if (entry.name === FILES_FIELD) return classifyUpload(name, entry.data);
    const kind = isDicomBytes(entry.data) ? 'dicom' : isZip(entry.data) ? 'zip' : undefined;
    const upload: Upload | undefined = kind
      ? { name, kind, bytes: entry.data }
      : niftiUpload(name, entry.data);
    if (!upload) {
      throw notAnImage(
        name,
        entry.data,
        `a NIfTI volume, DICOM file or .zip of a series for field '${entry.name}'`,
      );
    }
    const folder = displayFolder(entry.filename);
    return { ...upload, sequence: entry.name as Sequence, ...(folder ? { folder } : {}) };
  });
}
