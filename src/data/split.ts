// Patient-level splits (train/validation/test fractions, k-fold cross-validation), stratified by institution and
// repeatable for a seed; and, only for comparison with the reference design, a slice-level random split that
// leaks patients between train and test. Pure functions over per-patient counts.

import { mulberry32, type Rng, shuffled } from './random.ts';
import type { SliceCache } from './slice-cache.ts';

export interface PatientSummary {
  id: string;
  institution: string;
  slices: number;
  /** Slices holding tumour. */
  positives: number;
}

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export type SplitName = keyof SplitFractions;
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** Patient ids per split. */
export type PatientSplit = Record<SplitName, string[]>;

/** The reference design's slice-level split: 2210/736/983 of 3,929 slices. */
export const REFERENCE_SLICE_FRACTIONS: SplitFractions = {
  train: 2210 / 3929,
  val: 736 / 3929,
  test: 983 / 3929,
};

/** Per-patient slice and tumour-slice counts of a decoded cache. */
export function summarisePatients(
  cache: Pick<SliceCache, 'patients' | 'patientIndex' | 'tumourPixels' | 'count'>,
  institutionOf: (id: string) => string,
): PatientSummary[] {
  const out = cache.patients.map((id) => ({ id, institution: institutionOf(id), slices: 0, positives: 0 }));
  for (let i = 0; i < cache.count; i++) {
    const p = out[cache.patientIndex[i]!]!;
    p.slices++;
    if (cache.tumourPixels[i]! > 0) p.positives++;
  }
  return out.filter((p) => p.slices > 0);
}

function checkFractions(f: SplitFractions): void {
  const values = [f.train, f.val, f.test];
  if (values.some((v) => !(v >= 0)) || Math.abs(values.reduce((a, b) => a + b, 0) - 1) > 1e-6) {
    throw new RangeError(`split fractions must be ≥ 0 and sum to 1, got ${JSON.stringify(f)}`);
  }
}

function byInstitution<T extends { id: string; institution: string }>(
  patients: readonly T[],
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  const sorted = [...patients].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const name of [...new Set(sorted.map((p) => p.institution))].sort()) {
    groups.set(
      name,
      sorted.filter((p) => p.institution === name),
    );
  }
  return groups;
}

/**
 * How many of each group to take so that the total is `take` and every group gives its proportional share to
 * within one (largest remainder; ties broken by the seeded generator). `available` caps each group.
 */
export function apportion(
  groupSizes: readonly number[],
  take: number,
  rng: Rng,
  available = groupSizes,
): number[] {
  const total = groupSizes.reduce((a, b) => a + b, 0);
  const exact = groupSizes.map((n) => (total === 0 ? 0 : (n * take) / total));
  const out = exact.map((q, g) => Math.min(Math.floor(q), available[g]!));
  let left = take - out.reduce((a, b) => a + b, 0);
  const order = exact
    .map((q, g) => ({ g, rest: q - Math.floor(q), tie: rng.next() }))
    .sort((a, b) => b.rest - a.rest || a.tie - b.tie);
  while (left > 0) {
    const before = left;
    for (const { g } of order) {
      if (left > 0 && out[g]! < available[g]!) {
        out[g]!++;
        left--;
      }
    }
    if (left === before) throw new RangeError(`cannot take ${take} of ${total}`);
  }
  return out;
}

/** Split sizes for n items: test and val rounded (at least 1 when their fraction is > 0 and n allows), train the rest. */
export function splitSizes(n: number, f: SplitFractions): Record<SplitName, number> {
  checkFractions(f);
  const atLeastOne = (fraction: number) =>
    fraction > 0 && n >= 3 ? Math.max(1, Math.round(n * fraction)) : Math.round(n * fraction);
  const test = atLeastOne(f.test);
  const val = Math.min(atLeastOne(f.val), n - test);
  return { train: n - test - val, val, test };
}

/** Train/validation/test patients, stratified by institution, the same for the same seed. */
export function splitPatients(
  patients: readonly PatientSummary[],
  fractions: SplitFractions,
  seed: number,
): PatientSplit {
  const rng = mulberry32(seed);
  const groups = [...byInstitution(patients).values()].map((g) => shuffled(g, rng));
  return dealStratified(groups, splitSizes(patients.length, fractions), rng);
}

/** Deals shuffled institution groups into test, then val, then train, each split stratified by apportion. */
function dealStratified(
  groups: readonly (readonly PatientSummary[])[],
  sizes: Record<SplitName, number>,
  rng: Rng,
): PatientSplit {
  const sizesOf = groups.map((g) => g.length);
  const test = apportion(sizesOf, sizes.test, rng);
  const val = apportion(
    sizesOf,
    sizes.val,
    rng,
    sizesOf.map((n, g) => n - test[g]!),
  );
  const out: PatientSplit = { train: [], val: [], test: [] };
  groups.forEach((group, g) => {
    out.test.push(...ids(group.slice(0, test[g]!)));
    out.val.push(...ids(group.slice(test[g]!, test[g]! + val[g]!)));
    out.train.push(...ids(group.slice(test[g]! + val[g]!)));
  });
  return { train: out.train.sort(), val: out.val.sort(), test: out.test.sort() };
}

/**
 * k folds, stratified: within each institution a seeded shuffle dealt round-robin over the folds (continuing
 * where the last institution stopped, so fold sizes differ by at most one). Fold i tests on its patients; of
 * the rest, `valFraction` (stratified) validates and the remainder trains.
 */
export function kFoldPatients(
  patients: readonly PatientSummary[],
  k: number,
  seed: number,
  valFraction = 0,
): PatientSplit[] {
  if (!Number.isInteger(k) || k < 2 || k > patients.length) {
    throw new RangeError(`k-fold needs an integer k in 2..${patients.length} (patients), got ${k}`);
  }
  const rng = mulberry32(seed);
  const foldOf = new Map<string, number>();
  let next = 0;
  for (const group of byInstitution(patients).values()) {
    for (const p of shuffled(group, rng)) {
      foldOf.set(p.id, next);
      next = (next + 1) % k;
    }
  }
  return Array.from({ length: k }, (_, fold) => {
    const test = patients.filter((p) => foldOf.get(p.id) === fold);
    const rest = patients.filter((p) => foldOf.get(p.id) !== fold);
    const nVal = valFraction > 0 ? Math.max(1, Math.round(rest.length * valFraction)) : 0;
    const groups = [...byInstitution(rest).values()].map((g) => shuffled(g, rng));
    const inner = dealStratified(groups, { train: rest.length - nVal, val: nVal, test: 0 }, rng);
    return { train: inner.train, val: inner.val, test: ids(test).sort() };
  });
}

export interface SliceLevelSplit {
  /** Cache indices of the slices per split. */
  indices: Record<SplitName, number[]>;
  /** Patients with slices in both train and test. */
  leakedPatients: string[];
  warning: string;
}

/**
 * The reference design's slice-level random split, for comparison only: it puts slices of the same patient in
 * train and test, which inflates every test score (Yagis et al. 2021: by 29–55%). Calls `warn` with the leak.
 */
export function sliceLevelSplit(
  slicePatients: readonly string[],
  fractions: SplitFractions,
  seed: number,
  warn: (message: string) => void = (m) => console.warn(m),
): SliceLevelSplit {
  const sizes = splitSizes(slicePatients.length, fractions);
  const order = shuffled(
    slicePatients.map((_, i) => i),
    mulberry32(seed),
  );
  const test = order.slice(0, sizes.test).sort((a, b) => a - b);
  const val = order.slice(sizes.test, sizes.test + sizes.val).sort((a, b) => a - b);
  const train = order.slice(sizes.test + sizes.val).sort((a, b) => a - b);
  const trainPatients = new Set(train.map((i) => slicePatients[i]!));
  const leakedPatients = [...new Set(test.map((i) => slicePatients[i]!))]
    .filter((p) => trainPatients.has(p))
    .sort();
  const testPatients = new Set(test.map((i) => slicePatients[i]!)).size;
  const warning =
    `slice-level split leaks patients: ${leakedPatients.length} of ${testPatients} test patients also ` +
    'have slices in train, so test scores are inflated. Use it only to compare with the reference design.';
  warn(warning);
  return { indices: { train, val, test }, leakedPatients, warning };
}

function ids(patients: readonly { id: string }[]): string[] {
  return patients.map((p) => p.id).sort();
}
