// The slices inside an uploaded .zip (one patient folder, or a kaggle_3m folder of several), unpacked in memory
// with fflate. Skipped, so that a dataset folder can be zipped as it is: folders, hidden files and __MACOSX/,
// files that are not named as images (data.csv, README.md) and ground-truth masks (`…_mask.tif`). Refused (415):
// an entry named as an image that is not one, an archive fflate cannot read, or one holding no slice at all.
// The unpacked size and the number of slices are capped before anything is inflated, so a small zip cannot
// unpack into gigabytes or thousands of slices.
import { unzipSync } from 'fflate';
import { isImageFile } from '../data/dataset-index.ts';
import { sniffFormat } from '../data/read-image.ts';
import type { NamedBytes } from '../pipeline/slice-inputs.ts';
import { HttpError } from './http-error.ts';
import { formatBytes, tooManySlices } from './limits.ts';
import { isMaskName, notAnImage } from './uploads.ts';

/** An entry path made safe to print: no control characters. */
function cleanPath(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return path.replace(/[\u0000-\u001f\u007f]/g, '');
}

function isSlicePath(path: string): boolean {
  const parts = path.split('/');
  const base = parts[parts.length - 1] ?? '';
  if (path.endsWith('/') || parts.some((p) => p.startsWith('.') || p === '__MACOSX')) return false;
  return isImageFile(base) && !isMaskName(base);
}

export interface ZipLimits {
  maxUnpackedBytes: number;
  /** Slices this zip may hold: what is left of the request's maxSlices. */
  maxSlices: number;
  /** The request's maxSlices, for the message. */
  requestSlices: number;
}

/** The slice images of a zip, named by their path inside it (its folder names the patient of a numberless file). */
export function zipSlices(archive: string, bytes: Uint8Array, limits: ZipLimits): NamedBytes[] {
  let declared = 0;
  let count = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (entry) => {
        if (!isSlicePath(entry.name)) return false;
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
      `${archive}: no slice images in the archive (.tif, .tiff, .png, .jpg, .jpeg; masks are skipped)`,
    );
  }
  return slices;
}
