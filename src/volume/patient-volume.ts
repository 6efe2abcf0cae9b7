// A patient as the models take it from volumes: three co-registered sequences (pre-contrast, FLAIR,
// post-contrast: the dataset's channel order), each on the dataset's 8-bit scale, cut into axial slices shown as
// the dataset shows them; and the way back, from per-slice masks to a volume in the input's voxel grid.
import type { InMemorySlice } from '../data/cache-from-images.ts';
import { VolumeError } from '../data/errors.ts';
import { checkSlicePixels } from '../data/image.ts';
import { toEightBit } from './intensity.ts';
import { type AxialLayout, axialLayout, slicePixelOffsets } from './orientation.ts';
import { type Affine, type NiftiSpace, type Volume, voxelCount, voxelVolume } from './volume.ts';

/** The sequences in the order of the models' three input channels (the dataset's: R, G, B). */
export const SEQUENCES = ['pre', 'flair', 'post'] as const;
export type Sequence = (typeof SEQUENCES)[number];

export const SEQUENCE_NAMES: Record<Sequence, string> = {
  pre: 'pre-contrast',
  flair: 'FLAIR',
  post: 'post-contrast',
};

export interface PatientVolume {
  patient: string;
  /** The files or folders read, sequence by sequence. */
  sources: Partial<Record<Sequence, string>>;
  /** The input's voxel grid: a mask is written with these. */
  dims: readonly [number, number, number];
  affine: Affine;
  spacing: readonly [number, number, number] | null;
  space: NiftiSpace;
  layout: AxialLayout;
  /** pre, flair, post on the 0–255 scale, each in the input's array order. */
  channels: readonly [Uint8Array, Uint8Array, Uint8Array];
  /** What was assumed or replaced on the way (shown to the user and kept in summary.json). */
  notes: string[];
}

/** Largest difference two affines of one patient's sequences may have (float32 headers hold about 1e-5 mm). */
const AFFINE_TOLERANCE_MM = 1e-3;

function checkSameGrid(reference: Volume, other: Volume): void {
  const same = reference.dims.every((n, k) => n === other.dims[k]);
  if (!same) {
    throw new VolumeError(
      other.source,
      `is ${other.dims.join('×')} voxels where ${reference.source} is ${reference.dims.join('×')}: ` +
        'the sequences of a patient must be co-registered on one grid',
    );
  }
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      const a = reference.affine[r]![c]!;
      const b = other.affine[r]![c]!;
      if (Math.abs(a - b) > AFFINE_TOLERANCE_MM * (1 + Math.abs(a))) {
        throw new VolumeError(
          other.source,
          `lies elsewhere than ${reference.source} (affine entry [${r}][${c}] ${b} vs ${a}): ` +
            'the sequences of a patient must be co-registered on one grid',
        );
      }
    }
  }
}

function patientOf(
  patient: string,
  grid: Volume,
  sources: PatientVolume['sources'],
  channels: PatientVolume['channels'],
  notes: string[],
): PatientVolume {
  const layout = axialLayout(grid.affine, grid.dims, grid.source);
  checkSlicePixels(grid.source, layout.width, layout.height, 'an axial slice of');
  if (layout.obliqueDegrees > 1) {
    notes.push(
      `${grid.source}: the volume is oblique by ${layout.obliqueDegrees.toFixed(1)}°; slices are cut along its ` +
        `nearest body axes (${layout.codes.join('')}), not resampled`,
    );
  }
  if (!grid.spacing) notes.push(`${grid.source}: no voxel spacing in the header: tumour volume is in voxels`);
  return {
    patient,
    sources,
    dims: grid.dims,
    affine: grid.affine,
    spacing: grid.spacing,
    space: grid.space,
    layout,
    channels,
    notes,
  };
}

/** A patient from one volume whose three channels are pre-contrast, FLAIR and post-contrast. */
export function patientFromChannels(patient: string, volume: Volume): PatientVolume {
  if (volume.channels !== 3) {
    throw new VolumeError(
      volume.source,
      volume.channels === 1
        ? 'is a 3-D volume of one sequence: give a 4-D volume of three (pre-contrast, FLAIR, post-contrast), ' +
            'or the sequences apart with --flair (and --pre, --post)'
        : `has ${volume.channels} channels; the models take 3 (pre-contrast, FLAIR, post-contrast)`,
    );
  }
  const voxels = voxelCount(volume);
  const channels = [0, 1, 2].map((c) => toEightBit(volume.data, voxels, c, volume.eightBit).data);
  return patientOf(
    patient,
    volume,
    { pre: volume.source, flair: volume.source, post: volume.source },
    channels as unknown as PatientVolume['channels'],
    [],
  );
}

/**
 * A patient from separate co-registered sequences. FLAIR is required (the masks outline FLAIR abnormality); a
 * missing pre- or post-contrast sequence is replaced by FLAIR, as the dataset does for its patients without one.
 */
export function patientFromSequences(
  patient: string,
  volumes: Partial<Record<Sequence, Volume>> & { flair: Volume },
): PatientVolume {
  const notes: string[] = [];
  const flair = volumes.flair;
  const sources: PatientVolume['sources'] = {};
  const channels = SEQUENCES.map((sequence) => {
    const volume = volumes[sequence];
    if (!volume) {
      notes.push(`no ${SEQUENCE_NAMES[sequence]} sequence: FLAIR stands in for it, as in the dataset`);
      return undefined;
    }
    if (volume.channels !== 1) {
      throw new VolumeError(
        volume.source,
        `has ${volume.channels} channels; --${sequence} takes one sequence (a 3-D volume)`,
      );
    }
    checkSameGrid(flair, volume);
    sources[sequence] = volume.source;
    return toEightBit(volume.data, voxelCount(volume), 0, volume.eightBit).data;
  });
  const flairChannel = channels[1]!;
  const filled = channels.map((c) => c ?? flairChannel) as unknown as PatientVolume['channels'];
  return patientOf(patient, flair, sources, filled, notes);
}

/** The name of axial slice `s` in results and errors. */
export function axialSliceName(patient: PatientVolume, s: number): string {
  return `${patient.patient} slice ${s}`;
}

/**
 * The axial slices, RGB (pre, FLAIR, post) as the dataset's TIFFs: slice number s is voxel index s along the
 * slice axis, in the file's own order.
 */
export function axialSlices(patient: PatientVolume): InMemorySlice[] {
  const { width, height, depth } = patient.layout;
  const { offsets, sliceStride } = slicePixelOffsets(patient.layout, patient.dims);
  const [pre, flair, post] = patient.channels;
  const slices: InMemorySlice[] = [];
  for (let s = 0; s < depth; s++) {
    const base = s * sliceStride;
    const data = new Uint8Array(width * height * 3);
    for (let p = 0; p < offsets.length; p++) {
      const v = base + offsets[p]!;
      data[3 * p] = pre[v]!;
      data[3 * p + 1] = flair[v]!;
      data[3 * p + 2] = post[v]!;
    }
    slices.push({
      name: axialSliceName(patient, s),
      patient: patient.patient,
      sliceNumber: s,
      image: { width, height, channels: 3, data, sourceBits: 8 },
    });
  }
  return slices;
}

/**
 * Per-slice pictures (width × height, as axialSlices cuts them) put back into the input's voxel grid; slices
 * not given stay 0.
 */
export function toVoxelGrid<T extends Uint8Array | Float32Array>(
  patient: PatientVolume,
  slices: ReadonlyMap<number, T>,
  make: (voxels: number) => T,
): T {
  const { width, height, depth } = patient.layout;
  const { offsets, sliceStride } = slicePixelOffsets(patient.layout, patient.dims);
  const out = make(voxelCount(patient));
  for (const [s, picture] of slices) {
    if (!Number.isInteger(s) || s < 0 || s >= depth) throw new RangeError(`slice ${s} of ${depth}`);
    if (picture.length !== width * height) {
      throw new RangeError(`slice ${s} has ${picture.length} pixels, not ${width}×${height}`);
    }
    const base = s * sliceStride;
    for (let p = 0; p < offsets.length; p++) out[base + offsets[p]!] = picture[p]!;
  }
  return out;
}

export interface VolumeMask {
  /** 0/1 in the input's voxel grid and array order. */
  data: Uint8Array;
  tumourVoxels: number;
  /** tumourVoxels × the voxel volume; null without spacing (then tumourVoxels is the measure). */
  tumourVolumeMm3: number | null;
}

/** The final mask of a patient from its slices' masks (by slice number; slices without one are empty). */
export function volumeMask(patient: PatientVolume, masks: ReadonlyMap<number, Uint8Array>): VolumeMask {
  const data = toVoxelGrid(patient, masks, (n) => new Uint8Array(n));
  const tumourVoxels = data.reduce((sum, v) => sum + v, 0);
  const perVoxel = voxelVolume(patient);
  return { data, tumourVoxels, tumourVolumeMm3: perVoxel === null ? null : tumourVoxels * perVoxel };
}
