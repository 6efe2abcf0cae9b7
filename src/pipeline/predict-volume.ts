// `tumorscope predict` on a patient given as volumes (a 4-D NIfTI, or NIfTI files / DICOM series per sequence):
// the volume is cut into axial slices as the dataset shows them (src/volume), the slices go through predictSlices
// as any others, and the per-slice masks go back into the input's voxel grid: <out>/mask.nii.gz with the input's
// affine and dimensions, <out>/probabilities.nii.gz on request, an overlay PNG per positive slice, and
// summary.json with the tumour volume in mm³. Written whole or not at all (StagedFiles), as predictFiles.
import { join } from 'node:path';
import { StagedFiles } from '../engine/index.ts';
import { predictSlices } from '../inference/predict-slices.ts';
import { savedGate, type TwoStageModels } from '../inference/two-stage.ts';
import type { FusionConfig } from '../postprocess/fusion.ts';
import { niftiBytes } from '../volume/nifti.ts';
import { axialSlices, type PatientVolume, toVoxelGrid, volumeMask } from '../volume/patient-volume.ts';
import { readPatientVolume, type VolumeSources } from '../volume/read-patient.ts';
import type { Affine } from '../volume/volume.ts';
import { type LoadedModels, runnersOf } from './load-model.ts';
import type { PredictFilesResult } from './predict-files.ts';
import { overlayPng } from './predict-images.ts';
import { modelsSummary, type PredictSummary, RESEARCH_NOTICE, type SliceSummary } from './predict-summary.ts';

export const MASK_FILE = 'mask.nii.gz';
export const PROBABILITIES_FILE = 'probabilities.nii.gz';

export interface VolumeSummary {
  /** The file or DICOM folder of each sequence (one file for a 4-D volume). */
  sources: PatientVolume['sources'];
  /** The input's voxel grid, which the masks share. */
  dims: readonly [number, number, number];
  /** mm between voxel centres along i, j, k; null when the input carries none. */
  spacing: readonly [number, number, number] | null;
  affine: Affine;
  /** The body direction each voxel axis grows towards, e.g. "LPS". */
  orientation: string;
  /** Which voxel axis the axial slices are taken along (slice number = index along it). */
  sliceAxis: 'i' | 'j' | 'k';
  mask: string;
  probabilities: string | null;
  tumourVoxels: number;
  /** tumourVoxels × the voxel volume; null without spacing (then tumourVoxels is the measure). */
  tumourVolumeMm3: number | null;
  /** What was assumed on the way (a sequence replaced by FLAIR, an oblique volume, no spacing). */
  notes: string[];
}

export interface VolumePredictSummary extends PredictSummary {
  volume: VolumeSummary;
}

export interface PredictVolumeOptions {
  sources: VolumeSources;
  out: string;
  models: LoadedModels;
  /** The models' runners on the engine asked for (`--backend`); runnersOf(models), libtorch, when absent. */
  runners?: TwoStageModels;
  /** The fusion rule (default: the one saved with the models, else the classifier alone). */
  fusion?: FusionConfig;
  batch?: number;
  /** Also write the segmenter's per-voxel tumour probability as PROBABILITIES_FILE. */
  saveProbabilities?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export async function predictVolume(
  o: PredictVolumeOptions,
): Promise<PredictFilesResult & { summary: VolumePredictSummary }> {
  const patient = readPatientVolume(o.sources);
  const slices = axialSlices(patient);
  const runners = o.runners ?? runnersOf(o.models);
  const prediction = await predictSlices(runners, slices, {
    batch: o.batch,
    fusion: o.fusion ?? savedGate(runners),
    probabilities: o.saveProbabilities ?? false,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const masks = new Map<number, Uint8Array>();
  const probabilities = new Map<number, Float32Array>();
  for (const slice of prediction.slices) {
    if (slice.mask) masks.set(slice.slice, slice.mask);
    if (slice.probabilities) probabilities.set(slice.slice, slice.probabilities);
  }
  const mask = volumeMask(patient, masks);
  const output = new StagedFiles(o.out);
  try {
    const description = `tumorscope ${prediction.patients[0]?.patient ?? ''}`;
    output.write(
      MASK_FILE,
      niftiBytes({ dims: patient.dims, data: mask.data, space: patient.space, description }),
    );
    if (o.saveProbabilities) {
      const grid = toVoxelGrid(patient, probabilities, (n) => new Float32Array(n));
      output.write(
        PROBABILITIES_FILE,
        niftiBytes({ dims: patient.dims, data: grid, space: patient.space, description }),
      );
    }
    const file = patient.sources.flair ?? '';
    const sliceSummaries: SliceSummary[] = [];
    for (const { mask: sliceMask, probabilities: _, ...slice } of prediction.slices) {
      let overlay: string | null = null;
      if (sliceMask) {
        overlay = join(slice.patient, `slice_${slice.slice}_overlay.png`);
        output.write(overlay, await overlayPng(slices[slice.slice]!.image, sliceMask));
      }
      sliceSummaries.push({ ...slice, file, mask: null, overlay });
    }
    const { layout } = patient;
    const summary: VolumePredictSummary = {
      notice: RESEARCH_NOTICE,
      input: file,
      models: modelsSummary(o.models),
      gate: prediction.gate,
      patients: prediction.patients,
      slices: sliceSummaries,
      skipped: [],
      volume: {
        sources: patient.sources,
        dims: patient.dims,
        spacing: patient.spacing,
        affine: patient.affine,
        orientation: layout.codes.join(''),
        sliceAxis: (['i', 'j', 'k'] as const)[layout.sliceAxis],
        mask: MASK_FILE,
        probabilities: o.saveProbabilities ? PROBABILITIES_FILE : null,
        tumourVoxels: mask.tumourVoxels,
        tumourVolumeMm3: mask.tumourVolumeMm3,
        notes: patient.notes,
      },
    };
    output.write('summary.json', new TextEncoder().encode(`${JSON.stringify(summary, null, 2)}\n`));
    output.commit();
    return { summary, summaryPath: join(o.out, 'summary.json') };
  } catch (err) {
    output.discard();
    throw err;
  }
}
