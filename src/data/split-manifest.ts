// The split manifest: which patients (and how many slices and tumour slices) each split holds, the seed and the
// dataset it came from, as JSON that training and evaluation read back and check.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ManifestError } from './errors.ts';
import {
  type PatientSplit,
  type PatientSummary,
  type SliceLevelSplit,
  SPLIT_NAMES,
  type SplitFractions,
  type SplitName,
} from './split.ts';

const splitEntry = z.object({
  patients: z.array(z.string().min(1)),
  slices: z.number().int().nonnegative(),
  positives: z.number().int().nonnegative(),
  /** Patients per institution. */
  institutions: z.record(z.string(), z.number().int().nonnegative()),
});

const splits = z.object({ train: splitEntry, val: splitEntry, test: splitEntry });

const fractions = z.object({
  train: z.number().min(0).max(1),
  val: z.number().min(0).max(1),
  test: z.number().min(0).max(1),
});

const common = {
  version: z.literal(1),
  /** The dataset folder the split was made from (absolute). */
  dataset: z.string().min(1),
  seed: z.number().int(),
  stratifiedBy: z.literal('institution'),
};

const patientSplitManifest = z.object({
  ...common,
  kind: z.literal('patient-split'),
  fractions,
  splits,
});

const kFoldManifest = z.object({
  ...common,
  kind: z.literal('k-fold'),
  k: z.number().int().min(2),
  valFraction: z.number().min(0).max(1),
  folds: z.array(splits).min(2),
});

const sliceLevelManifest = z.object({
  ...common,
  stratifiedBy: z.literal('none'),
  kind: z.literal('slice-level'),
  fractions,
  warning: z.string(),
  leakedPatients: z.array(z.string()),
  splits,
  /** [patient id, slice number] of every slice per split. */
  slices: z.object({
    train: z.array(z.tuple([z.string(), z.number().int()])),
    val: z.array(z.tuple([z.string(), z.number().int()])),
    test: z.array(z.tuple([z.string(), z.number().int()])),
  }),
});

export const splitManifestSchema = z.discriminatedUnion('kind', [
  patientSplitManifest,
  kFoldManifest,
  sliceLevelManifest,
]);

export type SplitManifest = z.infer<typeof splitManifestSchema>;
export type PatientSplitManifest = z.infer<typeof patientSplitManifest>;
export type KFoldManifest = z.infer<typeof kFoldManifest>;
export type SliceLevelManifest = z.infer<typeof sliceLevelManifest>;
export type SplitEntry = z.infer<typeof splitEntry>;

/** Counts of one split's patients. */
export function splitEntryOf(ids: readonly string[], summaries: readonly PatientSummary[]): SplitEntry {
  const byId = new Map(summaries.map((s) => [s.id, s]));
  const entry: SplitEntry = { patients: [...ids], slices: 0, positives: 0, institutions: {} };
  for (const id of ids) {
    const s = byId.get(id);
    if (!s) throw new RangeError(`patient ${id} is not in the summaries`);
    entry.slices += s.slices;
    entry.positives += s.positives;
    entry.institutions[s.institution] = (entry.institutions[s.institution] ?? 0) + 1;
  }
  return entry;
}

function entries(split: PatientSplit, summaries: readonly PatientSummary[]): Record<SplitName, SplitEntry> {
  return {
    train: splitEntryOf(split.train, summaries),
    val: splitEntryOf(split.val, summaries),
    test: splitEntryOf(split.test, summaries),
  };
}

export function patientSplitManifestOf(
  dataset: string,
  seed: number,
  fractionsUsed: SplitFractions,
  split: PatientSplit,
  summaries: readonly PatientSummary[],
): PatientSplitManifest {
  return {
    version: 1,
    kind: 'patient-split',
    dataset,
    seed,
    stratifiedBy: 'institution',
    fractions: fractionsUsed,
    splits: entries(split, summaries),
  };
}

export function kFoldManifestOf(
  dataset: string,
  seed: number,
  valFraction: number,
  folds: readonly PatientSplit[],
  summaries: readonly PatientSummary[],
): KFoldManifest {
  return {
    version: 1,
    kind: 'k-fold',
    dataset,
    seed,
    stratifiedBy: 'institution',
    k: folds.length,
    valFraction,
    folds: folds.map((f) => entries(f, summaries)),
  };
}

/** A slice-level split's manifest; `slices[i]` describes cache slice i. */
export function sliceLevelManifestOf(
  dataset: string,
  seed: number,
  fractionsUsed: SplitFractions,
  split: SliceLevelSplit,
  slices: readonly { patientId: string; sliceNumber: number; positive: boolean; institution: string }[],
): SliceLevelManifest {
  const entry = (indices: readonly number[]): SplitEntry => {
    const patients = [...new Set(indices.map((i) => slices[i]!.patientId))].sort();
    const institutions: Record<string, number> = {};
    for (const id of patients) {
      const inst = slices.find((s) => s.patientId === id)!.institution;
      institutions[inst] = (institutions[inst] ?? 0) + 1;
    }
    const positives = indices.filter((i) => slices[i]!.positive).length;
    return { patients, slices: indices.length, positives, institutions };
  };
  const refs = (indices: readonly number[]) =>
    indices.map((i) => [slices[i]!.patientId, slices[i]!.sliceNumber] as [string, number]);
  return {
    version: 1,
    kind: 'slice-level',
    dataset,
    seed,
    stratifiedBy: 'none',
    fractions: fractionsUsed,
    warning: split.warning,
    leakedPatients: split.leakedPatients,
    splits: {
      train: entry(split.indices.train),
      val: entry(split.indices.val),
      test: entry(split.indices.test),
    },
    slices: {
      train: refs(split.indices.train),
      val: refs(split.indices.val),
      test: refs(split.indices.test),
    },
  };
}

/**
 * Checks what the schema cannot: no patient in two splits (of a fold), positives ≤ slices, and, for k-fold,
 * every patient tested exactly once. Returns the problems (empty when sound).
 */
export function manifestProblems(m: SplitManifest): string[] {
  const problems: string[] = [];
  const groups = m.kind === 'k-fold' ? m.folds : [m.splits];
  groups.forEach((g, i) => {
    const where = m.kind === 'k-fold' ? `fold ${i + 1}: ` : '';
    const seen = new Map<string, SplitName>();
    for (const name of SPLIT_NAMES) {
      const e = g[name];
      if (e.positives > e.slices) problems.push(`${where}${name} has more tumour slices than slices`);
      const patientCount = Object.values(e.institutions).reduce((a, b) => a + b, 0);
      if (patientCount !== e.patients.length)
        problems.push(`${where}${name}: institution counts do not add up`);
      if (m.kind === 'slice-level') continue;
      for (const p of e.patients) {
        const other = seen.get(p);
        if (other) problems.push(`${where}patient ${p} is in both ${other} and ${name}`);
        seen.set(p, name);
      }
    }
  });
  if (m.kind === 'k-fold') {
    const tested = m.folds.flatMap((f) => f.test.patients);
    if (new Set(tested).size !== tested.length) problems.push('a patient is tested in more than one fold');
  }
  return problems;
}

/** Validates parsed JSON as a manifest; `path` only names the file in errors. */
export function parseSplitManifest(json: unknown, path: string): SplitManifest {
  const result = splitManifestSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ManifestError(path, `not a valid split manifest: ${issues.slice(0, 5).join('; ')}`);
  }
  const problems = manifestProblems(result.data);
  if (problems.length > 0)
    throw new ManifestError(path, `inconsistent split manifest: ${problems.join('; ')}`);
  return result.data;
}

export function readSplitManifest(path: string): SplitManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ManifestError(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? err})`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(path, `not JSON (${(err as Error).message})`, { cause: err });
  }
  return parseSplitManifest(json, path);
}

/** Writes the manifest (validated first) through a temporary file, so a crash never leaves half a manifest. */
export function writeSplitManifest(path: string, manifest: SplitManifest): void {
  const checked = parseSplitManifest(manifest, path);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(checked, null, 2)}\n`);
  renameSync(tmp, path);
}

/** The patients a model trained on `m` (fold `fold`) learnt from: its training and validation splits. */
export function trainingPatients(m: SplitManifest, fold = 0): { train: string[]; val: string[] } {
  return { train: patientsOf(m, 'train', fold), val: patientsOf(m, 'val', fold) };
}

/** The patient ids of one split (of one fold for k-fold manifests). */
export function patientsOf(m: SplitManifest, split: SplitName, fold = 0): string[] {
  if (m.kind === 'k-fold') {
    const f = m.folds[fold];
    if (!f) throw new RangeError(`fold ${fold} of ${m.folds.length}`);
    return f[split].patients;
  }
  return m.splits[split].patients;
}
