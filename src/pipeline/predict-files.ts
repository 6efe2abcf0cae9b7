// `tumorscope predict` without the console: slices from files (one slice, a patient folder or a kaggle_3m tree;
// masks beside them are ignored), predicted one patient at a time so that a whole dataset never sits in memory,
// and written as <out>/<patient>/<slice>_mask.png and _overlay.png per positive slice plus <out>/summary.json.
// The output appears whole or not at all: it is staged and moved into place at the end (StagedFiles), so a bad
// file in the last patient leaves nothing of the first ones. Nothing already in <out> is deleted; files of the
// same name are replaced. With skipBadFiles, a bad file (or a patient over a limit) is a warning and left out.
import { basename, extname, join } from 'node:path';
import { type PatientRef, scanDataset } from '../data/dataset-index.ts';
import { DataError, EmptyDatasetError, ProblemLog } from '../data/errors.ts';
import type { DecodedImage } from '../data/image.ts';
import { readImage } from '../data/read-image.ts';
import { StagedFiles } from '../engine/index.ts';
import { oddSizedSlices, predictSlices, type SliceInput } from '../inference/predict-slices.ts';
import { savedGate, type TwoStageModels } from '../inference/two-stage.ts';
import type { FusionConfig } from '../postprocess/fusion.ts';
import { type LoadedModels, runnersOf } from './load-model.ts';
import { maskPng, overlayPng } from './predict-images.ts';
import { modelsSummary, type PredictSummary, RESEARCH_NOTICE, type SliceSummary } from './predict-summary.ts';
import { decodeWithinBudget, MAX_DECODED_PIXELS } from './slice-inputs.ts';

export interface PredictFilesOptions {
  /** A slice file (TIFF, PNG or JPEG), a patient folder, or a kaggle_3m folder. */
  input: string;
  out: string;
  models: LoadedModels;
  /** The models' runners on the engine asked for (`--backend`); runnersOf(models), libtorch, when absent. */
  runners?: TwoStageModels;
  /** The fusion rule (default: the one saved with the models, else the classifier alone). */
  fusion?: FusionConfig;
  batch?: number;
  /** Decoded pixels of one patient (default MAX_DECODED_PIXELS). */
  maxPixels?: number;
  /** Warn about bad files (unreadable, too large, odd-sized) and go on without them, instead of stopping. */
  skipBadFiles?: boolean;
  warn?: (message: string) => void;
  /** Slices done (see predictSlices) over all patients, and their total. */
  onProgress?: (done: number, total: number) => void;
}

export interface PredictFilesResult {
  summary: PredictSummary;
  summaryPath: string;
}

/** A slice to predict on and the file it came from. */
interface FileSlice extends SliceInput {
  path: string;
}

/**
 * One patient's slices decoded, within the pixel budget; with skipBadFiles, a file that does not decode and a
 * slice whose size differs from the patient's are reported and left out, and a patient over the budget is
 * reported and left out whole.
 */
async function decodePatient(patient: PatientRef, log: ProblemLog, maxPixels: number): Promise<FileSlice[]> {
  const skipping = (err: unknown): undefined => {
    if (!(err instanceof DataError)) throw err;
    log.report(err);
    return undefined;
  };
  let images: (DecodedImage | undefined)[];
  try {
    images = await decodeWithinBudget(
      patient.slices,
      (s) => s.imagePath,
      (s) => readImage(s.imagePath).catch(skipping),
      { maxPixels, slices: `patient ${patient.id}'s slices` },
    );
  } catch (err) {
    skipping(err);
    return [];
  }
  const slices = patient.slices.flatMap((s, k): FileSlice[] => {
    const image = images[k];
    if (!image) return [];
    const name = basename(s.imagePath);
    return [{ name, patient: s.patientId, sliceNumber: s.sliceNumber, image, path: s.imagePath }];
  });
  const odd = new Set<FileSlice>();
  for (const { slice, error } of oddSizedSlices(slices, (s) => s.path)) {
    log.report(error);
    odd.add(slice);
  }
  return slices.filter((slice) => !odd.has(slice));
}

export async function predictFiles(o: PredictFilesOptions): Promise<PredictFilesResult> {
  const skipBadFiles = o.skipBadFiles ?? false;
  const log = new ProblemLog(skipBadFiles, o.warn);
  // Every name is checked (and a mask given as the input refused) before any slice is decoded.
  const index = scanDataset(o.input, {
    slicesOnly: true,
    requireMetadata: false,
    skipBadFiles,
    ...(o.warn ? { warn: o.warn } : {}),
  });
  // A patient of more than MAX_SLICES_PER_PATIENT slices was refused (or skipped) by the scan, before decoding.
  const { patients } = index;
  const total = patients.reduce((n, p) => n + p.slices.length, 0);
  const runners = o.runners ?? runnersOf(o.models);
  const summary: PredictSummary = {
    notice: RESEARCH_NOTICE,
    input: index.source,
    models: modelsSummary(o.models),
    gate: o.fusion ?? savedGate(runners),
    patients: [],
    slices: [],
    skipped: [],
  };
  const output = new StagedFiles(o.out);
  try {
    o.onProgress?.(0, total);
    let before = 0;
    for (const patient of patients) {
      const slices = await decodePatient(patient, log, o.maxPixels ?? MAX_DECODED_PIXELS);
      if (slices.length > 0) await predictPatient(o, runners, slices, { before, total }, output, summary);
      before += patient.slices.length;
      o.onProgress?.(before, total);
    }
    summary.skipped = [...index.problems, ...log.problems];
    if (summary.slices.length === 0) {
      throw new EmptyDatasetError(
        index.source,
        `no usable slices (${summary.skipped.length} bad files skipped)`,
      );
    }
    output.write('summary.json', new TextEncoder().encode(`${JSON.stringify(summary, null, 2)}\n`));
    output.commit();
  } catch (err) {
    output.discard();
    throw err;
  }
  return { summary, summaryPath: join(o.out, 'summary.json') };
}

/** Both stages on one patient's slices; its PNGs staged in `output`, its results added to `summary`. */
async function predictPatient(
  o: PredictFilesOptions,
  models: TwoStageModels,
  slices: FileSlice[],
  progress: { before: number; total: number },
  output: StagedFiles,
  summary: PredictSummary,
): Promise<void> {
  const bySliceNumber = new Map(slices.map((slice) => [slice.sliceNumber, slice]));
  const prediction = await predictSlices(models, slices, {
    batch: o.batch,
    fusion: summary.gate,
    onProgress: (done) => o.onProgress?.(progress.before + done, progress.total),
  });
  for (const { mask, ...slice } of prediction.slices) {
    const input = bySliceNumber.get(slice.slice)!;
    let paths: Pick<SliceSummary, 'mask' | 'overlay'> = { mask: null, overlay: null };
    if (mask) {
      const stem = basename(input.name, extname(input.name));
      paths = {
        mask: join(slice.patient, `${stem}_mask.png`),
        overlay: join(slice.patient, `${stem}_overlay.png`),
      };
      output.write(paths.mask!, await maskPng(mask, slice.width, slice.height));
      output.write(paths.overlay!, await overlayPng(input.image, mask));
    }
    summary.slices.push({ ...slice, file: input.path, ...paths } satisfies SliceSummary);
  }
  summary.patients.push(...prediction.patients);
}
