// The slices inside an uploaded .zip (one patient folder, or a kaggle_3m folder of several), or the files of a
// DICOM series inside one (a zipped series folder, sent in a sequence's field), unpacked in memory with fflate.
// Skipped, so that a dataset folder can be zipped as it is: folders, hidden files and __MACOSX/, files that are
// not named as images (data.csv, README.md) and ground-truth masks (`…_mask.tif`); in a series, files that are not
// DICOM and DICOMDIR, as a series folder's are. Refused (415): an entry named as an image that is not one, an
// archive fflate cannot read, or one holding no slice at all. The unpacked size and the number of entries are
// capped before anything is inflated, so a small zip cannot unpack into gigabytes or thousands of slices.
import { unzipSync } from 'fflate';
import { isImageFile } from '../data/dataset-index.ts';
import { sniffFormat } from '../data/read-image.ts';
import type { NamedBytes } from '../pipeline/slice-inputs.ts';
import { isDicomBytes } from '../volume/dicom-magic.ts';
import { HttpError } from './http-error.ts';
import { formatBytes, tooManySlices } from './limits.ts';
import { isMaskName, notAnImage } from './uploads.ts';

/** An entry path made safe to print: no control characters. */
function cleanPath(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return path.replace(/[\u0000-\u001f\u007f]/g, '');
}

/** The file name of an entry that is a file and not OS clutter (hidden, __MACOSX/), or undefined. */
function entryFileName(path: string): string | undefined {
  const parts = path.split('/');
  if (path.endsWith('/') || parts.some((p) => p.startsWith('.') || p === '__MACOSX')) return undefined;
  return parts[parts.length - 1];
}

function isSlicePath(path: string): boolean {
  const base = entryFileName(path);
  return base !== undefined && isImageFile(base) && !isMaskName(base);
}

export interface ZipLimits {
  maxUnpackedBytes: number;
  /** Slices this zip may hold: what is left of the request's maxSlices. */
  maxSlices: number;
  /** The request's maxSlices, for the message. */
  requestSlices: number;
}

/** The entries of a zip that `keep` takes, within the limits; 413 past them, 415 for an unreadable archive. */
function unzipWithin(
  archive: string,
  bytes: Uint8Array,
  keep: (path: string) => boolean,
  limits: ZipLimits,
): Record<string, Uint8Array> {
  let declared = 0;
  let count = 0;
  try {
    return unzipSync(bytes, {
      filter: (entry) => {
        if (!keep(entry.name)) return false;
        declared += entry.originalSize;
        if (declared > limits.maxUnpackedBytes) {
          throw new HttpError(
            413,
            `${archive}: unpacks to more than ${formatBytes(limits.maxUnpackedBytes)}`,
          );
        }
        if (++count > limits.maxSlices) throw tooManySlices(archive, limits.requestSlices);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(415, `${archive}: not a readable .zip (${(err as Error).message})`);
  }
}

/** The slice images of a zip, named by their path inside it (its folder names the patient of a numberless file). */
export function zipSlices(archive: string, bytes: Uint8Array, limits: ZipLimits): NamedBytes[] {
  const files = unzipWithin(archive, bytes, isSlicePath, limits);
  const slices: NamedBytes[] = [];
  for (const [path, content] of Object.entries(files)) {
    if (sniffFormat(content) === undefined) {
      throw notAnImage(`${archive}: ${path}`, content, 'an image (TIFF, PNG or JPEG)');
    }
    slices.push({ name: cleanPath(path), bytes: content });
  }
  if (slices.length === 0) {
    throw new HttpError(
      415,
      `${archive}: no slice images in the archive (.tif, .tiff, .png, .jpg, .jpeg; masks are skipped); a ` +
        "zipped DICOM series goes in field 'flair' (or 'pre', 'post')",
    );
  }
  return slices;
}

/** The DICOM files of a zipped series folder, named by their path inside it (its folders name the patient). */
export function zipSeries(archive: string, bytes: Uint8Array, limits: ZipLimits): NamedBytes[] {
  const keep = (path: string) => {
    const base = entryFileName(path);
    return base !== undefined && base.toUpperCase() !== 'DICOMDIR';
  };
  const files = Object.entries(unzipWithin(archive, bytes, keep, limits))
    .filter(([, content]) => isDicomBytes(content))
    .map(([path, content]) => ({ name: cleanPath(path), bytes: content }));
  if (files.length === 0) throw new HttpError(415, `${archive}: no DICOM files in the archive`);
  return files;
}
