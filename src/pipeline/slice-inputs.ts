// Slices to predict on from files' bytes and names (uploads, or files read by the CLI). The patient and slice
// number come from the dataset's naming, <PATIENT>_<n>.tif (parseSliceName); otherwise the patient is the file's
// folder (or 'upload') and the slice number its position among that patient's files. Masks are refused: they
// are answers, not questions, and predicting on one would give nonsense without an error.

import { decodeImageBytes } from '../data/read-image.ts';
import { placeSlices, type SliceNaming } from '../data/slice-names.ts';
import type { SliceInput } from './predict.ts';

export interface NamedBytes {
  /** The file name, possibly with folders (`TCGA_CS_4941_19960909/TCGA_CS_4941_19960909_12.tif`). */
  name: string;
  bytes: Uint8Array;
}

/** Decodes the files (TIFF, PNG or JPEG, told from their bytes) into slices; errors name the file. */
export async function sliceInputsFromFiles(
  files: readonly NamedBytes[],
  naming: SliceNaming = {},
): Promise<SliceInput[]> {
  const places = placeSlices(
    files.map((f) => f.name),
    naming,
  );
  return Promise.all(
    files.map(async (file, k) => ({
      name: file.name.split(/[\\/]/).pop() || file.name,
      ...places[k]!,
      image: await decodeImageBytes(file.bytes, file.name),
    })),
  );
}
