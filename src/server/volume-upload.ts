// POST /api/predict with a patient as NIfTI: one 4-D volume of three channels in field `files`, or the sequences
// apart in fields `flair` (required), `pre` and `post`. The volume is cut into axial slices as the CLI cuts it
// (src/volume), and the answer carries, beside the per-slice results, the mask as a gzip'd NIfTI with the input's
// affine and dimensions (a data URI) and the tumour volume in mm³.

import type { InMemorySlice } from '../data/cache-from-images.ts';
import { DataError } from '../data/errors.ts';
import type { SlicePrediction } from '../inference/predict-slices.ts';
import type { VolumeResult } from '../inference/prediction-schema.ts';
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
import { HttpError } from './http-error.ts';
import { tooManySlices } from './limits.ts';
import type { Upload } from './uploads.ts';

/** The patient of the job's NIfTI uploads, or undefined when it has none; 400 for NIfTI mixed with slices. */
export function patientOfUploads(uploads: readonly Upload[]): PatientVolume | undefined {
  const volumes = uploads.filter((u) => u.kind === 'volume');
  if (volumes.length === 0) return undefined;
  const sequences = volumes.filter((u) => u.sequence !== undefined);
  const whole = volumes.filter((u) => u.sequence === undefined);
  if (volumes.length !== uploads.length || (whole.length > 0 && volumes.length > 1)) {
    throw new HttpError(
      400,
      `${volumes[0]!.name}: a NIfTI volume is one whole patient: send one 4-D volume (field 'files') or the ` +
        "sequences in fields 'flair', 'pre' and 'post', and nothing else in the same request",
    );
  }
  try {
    if (whole.length === 1)
      return patientFromChannels(niftiStem(whole[0]!.name), parseNifti(whole[0]!.bytes, whole[0]!.name));
    const by = new Map<Sequence, Upload>();
    for (const upload of sequences) {
      if (by.has(upload.sequence!))
        throw new HttpError(400, `${upload.name}: a second '${upload.sequence}' volume`);
      by.set(upload.sequence!, upload);
    }
    const flair = by.get('flair');
    if (!flair)
      throw new HttpError(400, `${sequences[0]!.name}: the FLAIR volume (field 'flair') is required`);
    const read = Object.fromEntries(
      SEQUENCES.filter((s) => by.has(s)).map((s) => [s, parseNifti(by.get(s)!.bytes, by.get(s)!.name)]),
    );
    return patientFromSequences(niftiStem(flair.name), { ...read, flair: read.flair! });
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

/** The mask of the predicted slices, back in the input's grid, with its size. */
export function volumeResult(patient: PatientVolume, slices: readonly SlicePrediction[]): VolumeResult {
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
    mask: `data:application/gzip;base64,${Buffer.from(file).toString('base64')}`,
    notes: patient.notes,
  };
}
