// What a slice's file name says: the dataset's <PATIENT>_<n>.tif naming (and <PATIENT>_<n>_mask.tif for its
// mask), where each slice belongs in a patient volume, and volumes in order. Pure string work, no file system, so
// that the browser's in-page pipeline places slices exactly as the server does.
import { MaskGivenError } from './errors.ts';
import { groupByPatient } from './group-by-patient.ts';

export interface ParsedName {
  /** The name without folders, extension and _mask: an image and its mask share it. */
  key: string;
  isMask: boolean;
  patientId: string;
  sliceNumber: number | undefined;
}

/** Parses a path's file name ('/' or '\' separated). */
export function parseSliceName(path: string): ParsedName {
  const file = path.split(/[\\/]/).pop() ?? path;
  const dot = file.lastIndexOf('.');
  const stem = dot > 0 ? file.slice(0, dot) : file;
  const isMask = /_mask$/i.test(stem);
  const key = isMask ? stem.slice(0, -5) : stem;
  const m = /^(.*)_(\d+)$/.exec(key);
  return { key, isMask, patientId: m ? m[1]! : key, sliceNumber: m ? Number(m[2]) : undefined };
}

/** Name order with numbers compared as numbers (…_2 before …_10). */
export const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;

export interface SliceNaming {
  /** The patient of files whose names and folders name none (default 'upload'). */
  patient?: string;
  /** The error for a ground-truth mask given as a slice (default MaskGivenError). */
  maskError?: (name: string) => Error;
}

/**
 * Patient and slice number of each name: `<PATIENT>_<n>.tif`, else the file's folder (or naming.patient, or
 * 'upload') and its position among that patient's files. A ground-truth mask is refused: it is an answer, not a
 * question, and predicting on one would give nonsense without an error.
 */
export function placeSlices(
  names: readonly string[],
  naming: SliceNaming = {},
): { patient: string; sliceNumber: number }[] {
  const placed = names.map((name) => {
    const parts = name.split(/[\\/]/).filter((p) => p !== '');
    const parsed = parseSliceName(name);
    if (parsed.isMask) throw (naming.maskError ?? ((n: string) => new MaskGivenError(n)))(name);
    if (parsed.sliceNumber !== undefined)
      return { patient: parsed.patientId, sliceNumber: parsed.sliceNumber };
    const folder = parts.length > 1 ? parts[parts.length - 2]! : undefined;
    return { patient: folder ?? naming.patient ?? 'upload', sliceNumber: undefined };
  });
  const positions = new Map<string, number>();
  return placed.map(({ patient, sliceNumber }) => {
    if (sliceNumber !== undefined) return { patient, sliceNumber };
    const position = (positions.get(patient) ?? 0) + 1;
    positions.set(patient, position);
    return { patient, sliceNumber: position };
  });
}

/**
 * Slices of one patient volume, for every command. LGG patients have 20–88 and a 3-D MRI series rarely more than
 * about 200; the volume steps hold about 1.3 MB a slice at the segmenter's 256×256 (caches, probabilities,
 * component labels), so 256 slices stay near 330 MB, where 2,000 one-pixel files once took gigabytes and aborted.
 */
export const MAX_SLICES_PER_PATIENT = 256;

/** Placed slices grouped by patient (natural order), each volume in slice order; a slice given twice is refused. */
export function groupVolumes<T extends { patient: string; sliceNumber: number }>(
  slices: readonly T[],
  nameOf: (slice: T) => string,
): T[][] {
  const byPatient = groupByPatient(slices, (s) => s.patient);
  return [...byPatient.keys()].sort(naturalOrder).map((patient) => {
    const volume = byPatient.get(patient)!.sort((a, b) => a.sliceNumber - b.sliceNumber);
    volume.forEach((s, k) => {
      const previous = volume[k - 1];
      if (previous && previous.sliceNumber === s.sliceNumber) {
        throw new Error(
          `${nameOf(s)}: patient ${patient} slice ${s.sliceNumber} is given twice (also as ${nameOf(previous)})`,
        );
      }
    });
    return volume;
  });
}
