// A patient's volumes from the paths a user gives: one 4-D NIfTI of three channels, or the sequences apart (each a
// NIfTI file or a DICOM series folder). Which path is a volume is told from its name or its files.
import { statSync } from 'node:fs';
import { DataError } from '../data/errors.ts';
import { isDicomFolder, readDicomSeries } from './dicom.ts';
import { isNiftiName, niftiStem, readNifti } from './nifti.ts';
import {
  type PatientVolume,
  patientFromChannels,
  patientFromSequences,
  SEQUENCES,
  type Sequence,
} from './patient-volume.ts';
import type { Volume } from './volume.ts';

export type VolumeSources = { volume: string } | (Partial<Record<Sequence, string>> & { flair: string });

/** Is `path` a volume (a NIfTI file or a folder of DICOM files) rather than slices? */
export function isVolumePath(path: string): boolean {
  return isNiftiName(path) || isDicomFolder(path);
}

/** A NIfTI file or a DICOM series folder. */
export function readVolume(path: string): Volume {
  let folder = false;
  try {
    folder = statSync(path).isDirectory();
  } catch (err) {
    throw new DataError('not-found', path, 'does not exist', { cause: err });
  }
  return folder ? readDicomSeries(path) : readNifti(path);
}

/**
 * The patient of a DICOM series folder: the folder's name, or its parent's where the folder is named only by its
 * sequence (`TCGA_CS_4941/flair`); '' for a bare name.
 */
export function seriesPatientName(folder: string): string {
  const parts = folder.split(/[\\/]+/).filter(Boolean);
  const last = parts.length - 1;
  const bySequence = last > 0 && (SEQUENCES as readonly string[]).includes(parts[last]!.toLowerCase());
  return parts[bySequence ? last - 1 : last] ?? '';
}

/** The patient's name: the 4-D file's or FLAIR's name without .nii(.gz), or its DICOM folder's name. */
export function patientName(sources: VolumeSources): string {
  const path = 'volume' in sources ? sources.volume : sources.flair;
  return isNiftiName(path) ? niftiStem(path) : seriesPatientName(path);
}

export function readPatientVolume(sources: VolumeSources, patient = patientName(sources)): PatientVolume {
  if ('volume' in sources) return patientFromChannels(patient, readVolume(sources.volume));
  const volumes: Partial<Record<Sequence, Volume>> = {};
  for (const sequence of SEQUENCES) {
    const path = sources[sequence];
    if (path !== undefined) volumes[sequence] = readVolume(path);
  }
  return patientFromSequences(patient, { ...volumes, flair: volumes.flair! });
}
