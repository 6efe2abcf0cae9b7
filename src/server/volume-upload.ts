// POST /api/predict with a patient as volumes: one 4-D NIfTI of three channels in field `files`, or the sequences
// apart in fields `flair` (required), `pre` and `post`, each one NIfTI volume or the files of one DICOM series, or
// a .zip of its folder (read by the CLI's reader, src/volume/dicom.ts). The volume is cut into axial slices as the
// CLI cuts it (src/volume), and the answer carries, beside the per-slice results, the mask as a gzip'd NIfTI with
// the input's affine and dimensions (a data URI), the tumour volume in mm³, and on request (include=volume) the
// input as the models saw it, as NIfTI: a browser shows that where it cannot read DICOM.

import type { InMemorySlice } from '../data/cache-from-images.ts';
import { DataError } from '../data/errors.ts';
import type { SlicePrediction } from '../inference/predict-slices.ts';
import type { VolumeResult } from '../inference/prediction-schema.ts';
import { dicomSeriesOfFiles } from '../volume/dicom.ts';
import { niftiBytes, niftiStem, parseNifti } from '../volume/nifti.ts';
import {
  axialSlices,
  type PatientVolume,
  patientFromChannels,
  patientFromSequences,
  SEQUENCES,
  type Sequence,
  volumeMask,
} from '../volume/patient-volume.ts';
import { seriesPatientName } from '../volume/read-patient.ts';
import type { Volume } from '../volume/volume.ts';
import { HttpError } from './http-error.ts';
import { type RequestLimits, tooManySlices } from './limits.ts';
import type { Upload } from './uploads.ts';
import { zipSeries } from './zip-entries.ts';

/** What a patient's volume sent as uploads stands for in messages. */
const WHAT: Record<Upload['kind'], string> = {
  dicom: 'DICOM series',
  zip: 'zipped DICOM series',
  volume: 'NIfTI volume',
  image: 'slice',
};

/** One sequence's volume, and the folder that names the patient when it is FLAIR ('' for none). */
interface SequenceVolume {
  volume: Volume;
  folder: string;
}

const folderOfPath = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));

/** One sequence's volume: its one NIfTI file, the files of one DICOM series, or one zip of them. */
function sequenceVolume(sequence: Sequence, files: readonly Upload[], limits: RequestLimits): SequenceVolume {
  const first = files[0]!;
  const other = files.find((u) => u.kind !== first.kind);
  if (other) {
    throw new HttpError(
      400,
      `${other.name}: a ${WHAT[other.kind]} file in field '${sequence}', which holds the ${WHAT[first.kind]} ` +
        `${first.name}: one sequence is one NIfTI volume, the files of one DICOM series or one .zip of them`,
    );
  }
  if (first.kind !== 'dicom' && files.length > 1)
    throw new HttpError(400, `${files[1]!.name}: a second '${sequence}' ${WHAT[first.kind]}`);
  if (first.kind === 'volume') return { volume: parseNifti(first.bytes, first.name), folder: '' };
  if (first.kind === 'zip') {
    const entries = zipSeries(first.name, first.bytes, { ...limits, requestSlices: limits.maxSlices });
    const volume = dicomSeriesOfFiles(
      `${first.name} (field '${sequence}')`,
      entries.map((e) => ({ file: `${first.name}: ${e.name}`, bytes: e.bytes })),
    );
    return { volume, folder: folderOfPath(entries[0]!.name) || first.name.replace(/\.zip$/i, '') };
  }
  const folder = first.folder ?? '';
  const source = folder ? `${folder} (field '${sequence}')` : `field '${sequence}'`;
  if (files.length > limits.maxSlices) throw tooManySlices(source, limits.maxSlices);
  const volume = dicomSeriesOfFiles(
    source,
    files.map((u) => ({ file: u.name, bytes: u.bytes })),
  );
  return { volume, folder };
}

/**
 * The patient of the job's volume uploads (NIfTI or DICOM), or undefined when it has none; 400 for volumes mixed
 * with slices, 413 for a series of more files than the request may have slices.
 */
export function patientOfUploads(
  uploads: readonly Upload[],
  limits: RequestLimits,
): PatientVolume | undefined {
  const sequences = uploads.filter((u) => u.sequence !== undefined);
  const whole = uploads.filter((u) => u.kind === 'volume' && u.sequence === undefined);
  const volumes = [...whole, ...sequences];
  if (volumes.length === 0) return undefined;
  if (volumes.length !== uploads.length || (whole.length > 0 && volumes.length > 1)) {
    throw new HttpError(
      400,
      `${volumes[0]!.name}: a ${WHAT[volumes[0]!.kind]} is one whole patient: send one 4-D NIfTI volume (field ` +
        "'files') or the sequences in fields 'flair', 'pre' and 'post' (a NIfTI volume or a DICOM series's " +
        'files each), and nothing else in the same request',
    );
  }
  try {
    if (whole.length === 1)
      return patientFromChannels(niftiStem(whole[0]!.name), parseNifti(whole[0]!.bytes, whole[0]!.name));
    const by = new Map<Sequence, Upload[]>();
    for (const upload of sequences) by.set(upload.sequence!, [...(by.get(upload.sequence!) ?? []), upload]);
    const flair = by.get('flair');
    if (!flair)
      throw new HttpError(400, `${sequences[0]!.name}: the FLAIR volume (field 'flair') is required`);
    const read = new Map(
      SEQUENCES.filter((s) => by.has(s)).map((s) => [s, sequenceVolume(s, by.get(s)!, limits)]),
    );
    const volumes = Object.fromEntries([...read].map(([s, v]) => [s, v.volume]));
    // Named as the CLI names it: FLAIR's file without .nii(.gz), or its series' folder.
    const name =
      flair[0]!.kind === 'volume' ? niftiStem(flair[0]!.name) : seriesPatientName(read.get('flair')!.folder);
    return patientFromSequences(name || 'DICOM', { ...volumes, flair: volumes['flair']! });
  } catch (err) {
    if (err instanceof DataError) throw new HttpError(400, err.message);
    throw err;
  }
}

/** The patient's axial slices, within the request's slice limit. */
export function volumeSlices(patient: PatientVolume, maxSlices: number): InMemorySlice[] {
  if (patient.layout.depth > maxSlices)
    throw tooManySlices(patient.sources.flair ?? patient.patient, maxSlices);
  return axialSlices(patient);
}

/** The patient's three channels (pre, FLAIR, post) on the 8-bit scale the models saw, as one 4-D NIfTI. */
export function patientNifti(patient: PatientVolume): Uint8Array {
  const voxels = patient.channels[0].length;
  const data = new Uint8Array(3 * voxels);
  patient.channels.forEach((channel, c) => {
    data.set(channel, c * voxels);
  });
  return niftiBytes({
    dims: patient.dims,
    channels: 3,
    data,
    space: patient.space,
    displayMax: 255,
    description: 'tumorscope input (pre, FLAIR, post; 8-bit)',
  });
}

const gzipDataUri = (file: Uint8Array) =>
  `data:application/gzip;base64,${Buffer.from(file).toString('base64')}`;

/**
 * The mask of the predicted slices, back in the input's grid, with its size; with `includeInput`, the input
 * volume too (patientNifti).
 */
export function volumeResult(
  patient: PatientVolume,
  slices: readonly SlicePrediction[],
  includeInput = false,
): VolumeResult {
  const masks = new Map(slices.flatMap((s) => (s.mask ? [[s.slice, s.mask] as const] : [])));
  const mask = volumeMask(patient, masks);
  const file = niftiBytes({
    dims: patient.dims,
    data: mask.data,
    space: patient.space,
    description: 'tumorscope mask',
  });
  return {
    dims: patient.dims,
    affine: patient.affine,
    spacing: patient.spacing,
    orientation: patient.layout.codes.join(''),
    tumourVoxels: mask.tumourVoxels,
    tumourVolumeMm3: mask.tumourVolumeMm3,
    mask: gzipDataUri(file),
    ...(includeInput ? { image: gzipDataUri(patientNifti(patient)) } : {}),
    notes: patient.notes,
  };
}
