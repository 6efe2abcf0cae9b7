// Slices to predict on from files' bytes and names (uploads, or files read by the CLI). The patient and slice
// number come from the dataset's naming, <PATIENT>_<n>.tif (parseSliceName); otherwise the patient is the file's
// folder (or 'upload') and the slice number its position among that patient's files. Masks are refused: they
// are answers, not questions, and predicting on one would give nonsense without an error.

import { TooManyPixelsError } from '../data/errors.ts';
import { type DecodedImage, formatPixels } from '../data/image.ts';
import { decodeImageBytes } from '../data/read-image.ts';
import { placeSlices, type SliceNaming } from '../data/slice-names.ts';
import type { SliceInput } from '../inference/predict-slices.ts';

/**
 * Decoded pixels one prediction holds at once: one patient in `tumorscope predict`, one request in the server.
 * 1,024 LGG slices (256×256), or 256 slices of 512×512: 200 MB as 8-bit RGB. Each slice is within
 * MAX_SLICE_PIXELS, but a 64 MB upload of a thousand blank 2048×2048 deflate TIFFs would decode to 12 GB.
 */
export const MAX_DECODED_PIXELS = 64 * 1024 * 1024;

/** Images decoded at once: sharp decodes off the main thread, but more at a time only holds more in memory. */
const DECODE_CONCURRENCY = 2;

/**
 * Decodes `items` a few at a time into images in the same order (undefined where `decode` skipped one). Stops
 * with a TooManyPixelsError naming the file at which the images so far exceed `maxPixels`, so that memory stays
 * within it (and the images in flight); `slices` says whose slices they are in that message.
 */
export async function decodeWithinBudget<T, Image extends DecodedImage | undefined>(
  items: readonly T[],
  nameOf: (item: T) => string,
  decode: (item: T) => Promise<Image>,
  budget: { maxPixels: number; slices: string },
): Promise<Image[]> {
  const images: Image[] = new Array(items.length);
  let next = 0;
  let pixels = 0;
  let failed = false;
  const decodeNext = async () => {
    while (!failed && next < items.length) {
      const k = next++;
      try {
        const image = await decode(items[k]!);
        pixels += image ? image.width * image.height : 0;
        if (pixels > budget.maxPixels) {
          throw new TooManyPixelsError(nameOf(items[k]!), budget.slices, formatPixels(budget.maxPixels));
        }
        images[k] = image;
      } catch (err) {
        failed = true; // the other decoders stop after their current file
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DECODE_CONCURRENCY, items.length) }, decodeNext));
  return images;
}

export interface NamedBytes {
  /** The file name, possibly with folders (`TCGA_CS_4941_19960909/TCGA_CS_4941_19960909_12.tif`). */
  name: string;
  bytes: Uint8Array;
}

/**
 * Decodes the files (TIFF, PNG or JPEG, told from their bytes) into slices, within `maxPixels` together; errors
 * name the file.
 */
export async function sliceInputsFromFiles(
  files: readonly NamedBytes[],
  naming: SliceNaming = {},
  maxPixels = MAX_DECODED_PIXELS,
): Promise<SliceInput[]> {
  const places = placeSlices(
    files.map((f) => f.name),
    naming,
  );
  const images = await decodeWithinBudget(
    files,
    (file) => file.name,
    (file) => decodeImageBytes(file.bytes, file.name),
    { maxPixels, slices: 'the slices sent together' },
  );
  return files.map((file, k) => ({
    name: file.name.split(/[\\/]/).pop() || file.name,
    ...places[k]!,
    image: images[k]!,
  }));
}
