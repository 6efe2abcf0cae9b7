// The slices an evaluation scores, decoded once per model input size: all of --data, or one subset of a split
// manifest. Only the subset's patients are decoded, but always whole patients, so per-volume preprocessing
// ('volume-zscore') sees the same volume it saw in training.
import { type DatasetIndex, scanDataset } from '../data/dataset-index.ts';
import { sliceIndicesOf } from '../data/dataset-split.ts';
import { loadSlices, type SliceCache } from '../data/slice-cache.ts';
import type { SplitName } from '../data/split.ts';
import { patientsOf, readSplitManifest, type SplitManifest } from '../data/split-manifest.ts';
import { progress } from '../inference/progress.ts';

export interface InputSize {
  width: number;
  height: number;
}

export interface EvaluationDataOptions {
  data: string;
  /** A split manifest; without it every slice of `data` is evaluated. */
  split?: string;
  subset: SplitName;
  fold?: number;
  /** Every size the models need; each is decoded once. */
  sizes: readonly InputSize[];
  skipBadFiles?: boolean;
  /** false: a kaggle_3m folder without data.csv is read as well (default: required for TCGA-named patients). */
  requireMetadata?: boolean;
  log: (line: string) => void;
}

export interface EvaluationData {
  /** One cache per input size (see sizeKey); all hold the same slices in the same order. */
  caches: Map<string, SliceCache>;
  /** Cache positions of the evaluated slices (the same in every cache). */
  indices: number[];
  /** What is evaluated, in words, for the terminal and the report. */
  scope: string;
  /** The seed that made the split, or null without one. */
  splitSeed: number | null;
}

export function sizeKey(size: InputSize): string {
  return `${size.width}x${size.height}`;
}

function selectPatients(
  index: DatasetIndex,
  manifest: SplitManifest,
  o: EvaluationDataOptions,
): DatasetIndex {
  const wanted = new Set(patientsOf(manifest, o.subset, o.fold ?? 0));
  if (wanted.size === 0) throw new Error(`${o.split}: the ${o.subset} split has no patients`);
  const present = new Set(index.patients.map((p) => p.id));
  const missing = [...wanted].filter((id) => !present.has(id));
  if (missing.length > 0) {
    throw new Error(
      `${o.split}: ${missing.length} ${o.subset} patient(s) not in ${index.source} (${missing.slice(0, 3).join(', ')})`,
    );
  }
  return { ...index, patients: index.patients.filter((p) => wanted.has(p.id)) };
}

function sameSlices(a: SliceCache, b: SliceCache): boolean {
  return (
    a.count === b.count &&
    a.slices.every(
      (s, i) => s.patientId === b.slices[i]!.patientId && s.sliceNumber === b.slices[i]!.sliceNumber,
    )
  );
}

export async function loadEvaluationData(o: EvaluationDataOptions): Promise<EvaluationData> {
  const warn = (m: string) => o.log(`warning: ${m}`);
  const scanned = scanDataset(o.data, {
    skipBadFiles: o.skipBadFiles ?? false,
    warn,
    ...(o.requireMetadata === undefined ? {} : { requireMetadata: o.requireMetadata }),
  });
  if (!scanned.hasMasks) {
    throw new Error(`${scanned.source}: evaluation needs a ground-truth mask (…_mask.tif) for every slice`);
  }
  const manifest = o.split === undefined ? undefined : readSplitManifest(o.split);
  const index = manifest === undefined ? scanned : selectPatients(scanned, manifest, o);
  const total = index.patients.reduce((n, p) => n + p.slices.length, 0);

  const caches = new Map<string, SliceCache>();
  for (const size of o.sizes) {
    const key = sizeKey(size);
    if (caches.has(key)) continue;
    const bar = progress(`decode ${size.width}×${size.height}`, total, o.log, 1);
    const cache = await loadSlices(index, {
      ...size,
      skipBadFiles: o.skipBadFiles ?? false,
      warn,
      onProgress: () => bar.tick(),
    });
    bar.stop();
    const first = caches.values().next().value;
    if (first !== undefined && !sameSlices(first, cache)) {
      throw new Error(`${index.source}: slices decoded at ${key} differ from those at another size`);
    }
    caches.set(key, cache);
  }
  const reference = caches.values().next().value;
  if (reference === undefined) throw new RangeError('no input size to decode');

  const indices =
    manifest === undefined
      ? Array.from({ length: reference.count }, (_, i) => i)
      : sliceIndicesOf(reference, manifest, o.subset, o.fold ?? 0);
  if (indices.length === 0) throw new Error(`${o.split ?? index.source}: no slices to evaluate`);
  const patients = new Set(indices.map((i) => reference.patientIndex[i]!)).size;
  const scope =
    manifest === undefined
      ? `every slice of ${index.source} (no --split given): ${patients} patients, ${indices.length} slices`
      : `the ${o.subset} split of ${o.split}: ${patients} patients, ${indices.length} slices`;
  return { caches, indices, scope, splitSeed: manifest?.seed ?? null };
}
