// Slices to predict on from files' bytes and names (uploads, or files read by the CLI). The patient and slice
// number come from the dataset's naming, <PATIENT>_<n>.tif (parseSliceName); otherwise the patient is the file's
// folder (or 'upload') and the slice number its position among that patient's files. Masks are refused: they
// are answers, not questions, and predicting on one would give nonsense without an error.

import { parseSliceName } from '../data/dataset-index.ts';
import { MaskGivenError } from '../data/errors.ts';
import { decodeImageBytes } from '../data/read-image.ts';
import type { SliceInput } from './predict.ts';

export interface NamedBytes {
  /** The file name, possibly with folders (`TCGA_CS_4941_19960909/TCGA_CS_4941_19960909_12.tif`). */
  name: string;
  bytes: Uint8Array;
}

export interface SliceNaming {
  /** The patient of files whose names and folders name none (default 'upload'). */
  patient?: string;
}

interface Placed {
  name: string;
  patient: string;
  sliceNumber: number | undefined;
}

/** Patient and slice number of each name, the missing numbers by position within the patient. */
export function placeSlices(
  names: readonly string[],
  naming: SliceNaming = {},
): { patient: string; sliceNumber: number }[] {
  const placed: Placed[] = names.map((name) => {
    const parts = name.split(/[\\/]/).filter((p) => p !== '');
    const file = parts[parts.length - 1] ?? name;
    const parsed = parseSliceName(file);
    if (parsed.isMask) throw new MaskGivenError(name);
    if (parsed.sliceNumber !== undefined)
      return { name, patient: parsed.patientId, sliceNumber: parsed.sliceNumber };
    const folder = parts.length > 1 ? parts[parts.length - 2]! : undefined;
    return { name, patient: folder ?? naming.patient ?? 'upload', sliceNumber: undefined };
  });
  const positions = new Map<string, number>();
  return placed.map(({ patient, sliceNumber }) => {
    if (sliceNumber !== undefined) return { patient, sliceNumber };
    const position = (positions.get(patient) ?? 0) + 1;
    positions.set(patient, position);
    return { patient, sliceNumber: position };
  });
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
