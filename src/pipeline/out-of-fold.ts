// Out-of-fold (OOF) predictions of a cross-validation run: each fold's models run on the patients that fold held
// back, and what they output is stored so that every later decision (classifier threshold, fusion of the two
// stages, post-processing, TTA) can be made and scored on all patients without running a network again.
//   <cv>/fold-k/oof/classifier.json                  P(tumour) of every held-back slice
//   <cv>/fold-k/oof/segmenter.json                   what the segmenter's files hold, patient by patient
//   <cv>/fold-k/oof/segmenter/<patient>.<tta>.u8.gz  probability maps, D×H×W bytes round(255·p), gzip
// One byte per pixel keeps thresholds to 1/255 (far finer than any grid the choices use) at a quarter of the
// size; most of a map is background, so gzip brings a fold to a few MB.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { patientVolumes } from '../data/group-by-patient.ts';
import { type Module, writeFileAtomic, writeJsonAtomic } from '../engine/index.ts';
import { libtorchClassifier, libtorchSegmenter } from '../inference/libtorch-runners.ts';
import { classifyVolume, segmentSlices } from '../inference/two-stage.ts';
import { toBfloat16 } from '../models/optimize-for-inference.ts';
import type { TtaMode } from '../postprocess/config.ts';
import { type CvStage, cvSplitPath, foldDir, stageDir } from '../train/cross-validation.ts';
import { loadEvaluationData } from './evaluation-data.ts';
import { cacheVolume } from './evaluation-volumes.ts';
import { buildModel, type ClassifierSpec, readModelSpec, type SegmenterSpec } from './load-model.ts';

/** Both modes by default; flips cost four segmenter passes a slice, so a hurried run may store 'none' alone. */
export const OOF_TTA_MODES: readonly TtaMode[] = ['none', 'flips'];

const oofDir = (cvDir: string, fold: number) => join(foldDir(cvDir, fold), 'oof');
const oofIndexPath = (cvDir: string, fold: number, stage: CvStage) =>
  join(oofDir(cvDir, fold), `${stage}.json`);
const probsFile = (patient: string, tta: TtaMode) => join('segmenter', `${patient}.${tta}.u8.gz`);

const patientEntry = z.object({ id: z.string().min(1), slices: z.array(z.number().int()) });

/** The arithmetic the fold networks ran in (absent: float32, as before the choice existed). */
const precision = z.enum(['fp32', 'bf16']).optional();

const classifierOofSchema = z.object({
  fold: z.number().int().min(0),
  model: z.string(),
  precision,
  patients: z.array(patientEntry.extend({ p: z.array(z.number().min(0).max(1)) })),
});

const segmenterOofSchema = z.object({
  fold: z.number().int().min(0),
  model: z.string(),
  precision,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  encoding: z.literal('uint8 round(255 p), D×H×W, gzip'),
  tta: z.array(z.enum(['none', 'flips'])).min(1),
  patients: z.array(patientEntry),
});

export type ClassifierOof = z.infer<typeof classifierOofSchema>;
export type SegmenterOof = z.infer<typeof segmenterOofSchema>;

export function hasOof(cvDir: string, fold: number, stage: CvStage): boolean {
  return existsSync(oofIndexPath(cvDir, fold, stage));
}

export interface WriteOofOptions {
  data: string;
  cvDir: string;
  fold: number;
  batch: number;
  /** The segmenter's TTA modes to store (default OOF_TTA_MODES). */
  tta?: readonly TtaMode[];
  /** bf16: the networks converted to bfloat16 first, as `--backend torch-bf16` runs them (default fp32). */
  precision?: 'fp32' | 'bf16';
  skipBadFiles?: boolean;
  log: (line: string) => void;
}

/** Runs a finished stage's best model on its fold's held-back patients and stores the outputs. */
export async function writeOof(o: WriteOofOptions, stage: CvStage): Promise<void> {
  const modelPath = join(stageDir(o.cvDir, o.fold, stage), 'best');
  const spec = readModelSpec(modelPath, stage);
  const { width, height } = spec.preprocess;
  const data = await loadEvaluationData({
    data: o.data,
    split: cvSplitPath(o.cvDir),
    subset: 'test',
    fold: o.fold,
    sizes: [{ width, height }],
    skipBadFiles: o.skipBadFiles,
    log: o.log,
  });
  const cache = data.caches.values().next().value!;
  const volumes = patientVolumes(data.indices, cache);
  const entry = (volume: number[]) => ({
    id: cache.patients[cache.patientIndex[volume[0]!]!]!,
    slices: volume.map((i) => cache.slices[i]!.sliceNumber),
  });
  const dir = oofDir(o.cvDir, o.fold);
  mkdirSync(join(dir, 'segmenter'), { recursive: true });
  const model = `fold-${o.fold}/${stage}/best`;
  const precision = o.precision ?? 'fp32';
  const inPrecision = <M extends Module>(network: M) =>
    precision === 'bf16' ? toBfloat16(network) : network;
  if (stage === 'classifier') {
    const classifier = buildModel(spec as ClassifierSpec, { inference: true });
    inPrecision(classifier.model);
    const runner = libtorchClassifier({ ...classifier, threshold: classifier.config.threshold });
    const patients = [];
    for (const volume of volumes) {
      const p = await classifyVolume(runner, cacheVolume(data.caches, volume), { batch: o.batch });
      patients.push({ ...entry(volume), p: Array.from(p) });
    }
    writeJsonAtomic(oofIndexPath(o.cvDir, o.fold, stage), { fold: o.fold, model, precision, patients });
  } else {
    const segmenter = buildModel(spec as SegmenterSpec, { inference: true });
    inPrecision(segmenter.model);
    const runner = libtorchSegmenter(segmenter);
    for (const [n, volume] of volumes.entries()) {
      const { id } = entry(volume);
      const images = cacheVolume(data.caches, volume);
      const all = volume.map((_, k) => k);
      for (const tta of o.tta ?? OOF_TTA_MODES) {
        const bytes = quantise(await segmentSlices(runner, images, all, { batch: o.batch, tta }));
        writeFileAtomic(join(dir, probsFile(id, tta)), gzipSync(bytes));
      }
      o.log(`OOF segmenter fold ${o.fold}: patient ${n + 1}/${volumes.length} (${id})`);
    }
    writeJsonAtomic(oofIndexPath(o.cvDir, o.fold, stage), {
      fold: o.fold,
      model,
      precision,
      width,
      height,
      encoding: 'uint8 round(255 p), D×H×W, gzip',
      tta: o.tta ?? OOF_TTA_MODES,
      patients: volumes.map(entry),
    });
  }
}

/** Probabilities as bytes, round(255·p). */
export function quantise(probs: Float32Array): Uint8Array {
  const out = new Uint8Array(probs.length);
  for (let i = 0; i < probs.length; i++) out[i] = Math.round(probs[i]! * 255);
  return out;
}

export function readClassifierOof(cvDir: string, fold: number): ClassifierOof {
  const path = oofIndexPath(cvDir, fold, 'classifier');
  const parsed = classifierOofSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new Error(`${path}: not a classifier OOF file: ${z.prettifyError(parsed.error)}`);
  parsed.data.patients.forEach((p) => {
    if (p.p.length !== p.slices.length)
      throw new Error(`${path}: ${p.id} has ${p.slices.length} slices, ${p.p.length} scores`);
  });
  return parsed.data;
}

export function readSegmenterOof(cvDir: string, fold: number): SegmenterOof {
  const path = oofIndexPath(cvDir, fold, 'segmenter');
  const parsed = segmenterOofSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: not a segmenter OOF file: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** One patient's stored probability maps (bytes, round(255·p)), checked against the index's size. */
export function readSegmenterProbs(
  cvDir: string,
  index: SegmenterOof,
  patient: SegmenterOof['patients'][number],
  tta: TtaMode,
): Uint8Array {
  const path = join(oofDir(cvDir, index.fold), probsFile(patient.id, tta));
  const bytes = new Uint8Array(gunzipSync(readFileSync(path)));
  const expected = patient.slices.length * index.width * index.height;
  if (bytes.length !== expected)
    throw new Error(`${path}: ${bytes.length} bytes, expected ${expected} (${patient.slices.length} slices)`);
  return bytes;
}
