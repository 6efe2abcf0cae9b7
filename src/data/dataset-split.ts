// From a decoded dataset to a split manifest, and back from a manifest to the cache slices of a split: the glue
// training and evaluation use. Patient-level splits are the default; the slice-level split must be asked for by
// its name, 'slice-level-leaky', and warns.
import type { DatasetIndex } from './dataset-index.ts';
import { ManifestError } from './errors.ts';
import type { SliceCache } from './slice-cache.ts';
import {
  kFoldPatients,
  REFERENCE_SLICE_FRACTIONS,
  type SplitFractions,
  type SplitName,
  sliceLevelSplit,
  splitPatients,
  summarisePatients,
} from './split.ts';
import {
  kFoldManifestOf,
  patientSplitManifestOf,
  patientsOf,
  type SplitManifest,
  sliceLevelManifestOf,
} from './split-manifest.ts';

export type SplitRequest =
  | { mode: 'patient'; fractions: SplitFractions; seed: number }
  | { mode: 'k-fold'; k: number; seed: number; valFraction?: number }
  | { mode: 'slice-level-leaky'; fractions?: SplitFractions; seed: number; warn?: (message: string) => void };

/** Splits a decoded dataset as asked and describes the result as a manifest. */
export function splitDataset(index: DatasetIndex, cache: SliceCache, request: SplitRequest): SplitManifest {
  const institutionOf = new Map(index.patients.map((p) => [p.id, p.institution]));
  const inst = (id: string) => institutionOf.get(id) ?? 'unknown';
  const summaries = summarisePatients(cache, inst);
  switch (request.mode) {
    case 'patient':
      return patientSplitManifestOf(
        index.source,
        request.seed,
        request.fractions,
        splitPatients(summaries, request.fractions, request.seed),
        summaries,
      );
    case 'k-fold': {
      const valFraction = request.valFraction ?? 0;
      const folds = kFoldPatients(summaries, request.k, request.seed, valFraction);
      return kFoldManifestOf(index.source, request.seed, valFraction, folds, summaries);
    }
    case 'slice-level-leaky': {
      const fractions = request.fractions ?? REFERENCE_SLICE_FRACTIONS;
      const slicePatients = Array.from(cache.patientIndex, (p) => cache.patients[p]!);
      const split = sliceLevelSplit(slicePatients, fractions, request.seed, request.warn);
      const slices = cache.slices.map((s, i) => ({
        patientId: s.patientId,
        sliceNumber: s.sliceNumber,
        positive: cache.tumourPixels[i]! > 0,
        institution: inst(s.patientId),
      }));
      return sliceLevelManifestOf(index.source, request.seed, fractions, split, slices);
    }
  }
}

/**
 * The cache indices of one split (of one fold). Every patient (or slice) the manifest names must be in the
 * cache: a manifest made from another dataset is refused rather than silently training on less.
 */
export function sliceIndicesOf(
  cache: SliceCache,
  manifest: SplitManifest,
  split: SplitName,
  fold = 0,
): number[] {
  if (manifest.kind === 'slice-level') {
    const position = new Map(cache.slices.map((s, i) => [`${s.patientId}#${s.sliceNumber}`, i]));
    return manifest.slices[split].map(([patient, n]) => {
      const i = position.get(`${patient}#${n}`);
      if (i === undefined)
        throw new ManifestError(manifest.dataset, `slice ${n} of ${patient} is not in the dataset`);
      return i;
    });
  }
  const wanted = new Set(patientsOf(manifest, split, fold));
  const present = new Set(cache.patients);
  const missing = [...wanted].filter((p) => !present.has(p));
  if (missing.length > 0) {
    throw new ManifestError(
      manifest.dataset,
      `${split} patients not in the dataset: ${missing.slice(0, 5).join(', ')}`,
    );
  }
  const out: number[] = [];
  for (let i = 0; i < cache.count; i++) if (wanted.has(cache.patients[cache.patientIndex[i]!]!)) out.push(i);
  return out;
}
