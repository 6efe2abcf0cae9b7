// `tumorscope predict` without the console: slices from files (one slice, a patient folder or a kaggle_3m tree;
// masks beside them are ignored), predicted one patient at a time so that a whole dataset never sits in memory,
// and written as <out>/<patient>/<slice>_mask.png and _overlay.png per positive slice plus <out>/summary.json.
// Nothing already in <out> is deleted; files of the same name are replaced, each atomically.
import { mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { scanDataset } from '../data/dataset-index.ts';
import { TooManySlicesError } from '../data/errors.ts';
import { readImage } from '../data/read-image.ts';
import { writeFileAtomic, writeJsonAtomic } from '../engine/index.ts';
import { type LoadedModels, MAX_SLICES_PER_PATIENT, predictSlices, type SliceInput } from './predict.ts';
import { maskPng, overlayPng } from './predict-images.ts';
import { modelsSummary, type PredictSummary, RESEARCH_NOTICE, type SliceSummary } from './predict-summary.ts';
import { decodeWithinBudget, MAX_DECODED_PIXELS } from './slice-inputs.ts';

export interface PredictFilesOptions {
  /** A slice file (TIFF, PNG or JPEG), a patient folder, or a kaggle_3m folder. */
  input: string;
  out: string;
  models: LoadedModels;
  batch?: number;
  /** Decoded pixels of one patient (default MAX_DECODED_PIXELS). */
  maxPixels?: number;
  /** Slices done (see predictSlices) over all patients, and their total. */
  onProgress?: (done: number, total: number) => void;
}

export interface PredictFilesResult {
  summary: PredictSummary;
  summaryPath: string;
}

export async function predictFiles(o: PredictFilesOptions): Promise<PredictFilesResult> {
  // Every name is checked (and a mask given as the input refused) before any slice is decoded.
  const index = scanDataset(o.input, { slicesOnly: true, requireMetadata: false });
  // Counted before any slice is decoded: a folder of thousands of files is refused at once.
  for (const patient of index.patients) {
    if (patient.slices.length > MAX_SLICES_PER_PATIENT) {
      const folder = dirname(patient.slices[0]!.imagePath);
      throw new TooManySlicesError(folder, patient.id, patient.slices.length, MAX_SLICES_PER_PATIENT);
    }
  }
  const total = index.patients.reduce((n, p) => n + p.slices.length, 0);
  mkdirSync(o.out, { recursive: true });
  const summary: PredictSummary = {
    notice: RESEARCH_NOTICE,
    input: index.source,
    models: modelsSummary(o.models),
    patients: [],
    slices: [],
  };
  o.onProgress?.(0, total);
  let before = 0;
  for (const patient of index.patients) {
    const files = new Map(patient.slices.map((s) => [s.sliceNumber, s.imagePath]));
    const images = await decodeWithinBudget(
      patient.slices,
      (s) => s.imagePath,
      (s) => readImage(s.imagePath),
      { maxPixels: o.maxPixels ?? MAX_DECODED_PIXELS, slices: `patient ${patient.id}'s slices` },
    );
    const inputs: SliceInput[] = patient.slices.map((s, k) => ({
      name: basename(s.imagePath),
      patient: s.patientId,
      sliceNumber: s.sliceNumber,
      image: images[k]!,
    }));
    const imageOf = new Map(inputs.map((input) => [input.sliceNumber, input.image]));
    const prediction = predictSlices(o.models, inputs, {
      batch: o.batch,
      onProgress: (done) => o.onProgress?.(before + done, total),
    });
    for (const { mask, ...slice } of prediction.slices) {
      const file = files.get(slice.slice)!;
      let paths: Pick<SliceSummary, 'mask' | 'overlay'> = { mask: null, overlay: null };
      if (mask) {
        const stem = basename(file, extname(file));
        const written = {
          mask: join(slice.patient, `${stem}_mask.png`),
          overlay: join(slice.patient, `${stem}_overlay.png`),
        };
        mkdirSync(join(o.out, slice.patient), { recursive: true });
        writeFileAtomic(join(o.out, written.mask), await maskPng(mask, slice.width, slice.height));
        writeFileAtomic(join(o.out, written.overlay), await overlayPng(imageOf.get(slice.slice)!, mask));
        paths = written;
      }
      summary.slices.push({ ...slice, file, ...paths } satisfies SliceSummary);
    }
    summary.patients.push(...prediction.patients);
    before += patient.slices.length;
  }
  const summaryPath = join(o.out, 'summary.json');
  writeJsonAtomic(summaryPath, summary);
  return { summary, summaryPath };
}
