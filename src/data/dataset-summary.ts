// What a dataset holds, as numbers a person or a script can read: patients, slices and tumour slices (overall and
// per institution), tumour-area statistics and slice counts per patient. Pure: made from an index and a cache.
import type { DatasetIndex } from './dataset-index.ts';
import type { SliceCache } from './slice-cache.ts';

export interface Distribution {
  count: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  p10: number;
  p90: number;
}

export interface InstitutionCounts {
  patients: number;
  slices: number;
  tumourSlices: number;
}

export interface DatasetSummary {
  source: string;
  layout: DatasetIndex['layout'];
  width: number;
  height: number;
  patients: number;
  slices: number;
  /** Undefined when the slices have no masks. */
  tumourSlices: number | undefined;
  institutions: Record<string, InstitutionCounts>;
  /** Tumour area in pixels at cache size, over tumour slices only. */
  tumourAreaPixels: Distribution | undefined;
  /** Tumour area as a fraction of the slice, over tumour slices only. */
  tumourAreaFraction: Distribution | undefined;
  slicesPerPatient: Distribution;
  perPatient: { id: string; institution: string; slices: number; tumourSlices: number }[];
  clinicalColumns: string[];
  notes: string[];
  skippedFiles: number;
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function distribution(values: readonly number[]): Distribution | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    median: quantile(sorted, 0.5),
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
  };
}

export function summariseDataset(index: DatasetIndex, cache: SliceCache): DatasetSummary {
  const withMasks = cache.masks !== undefined;
  const institutionOf = new Map(index.patients.map((p) => [p.id, p.institution]));
  const perPatient = cache.patients.map((id) => ({
    id,
    institution: institutionOf.get(id) ?? 'unknown',
    slices: 0,
    tumourSlices: 0,
  }));
  const areas: number[] = [];
  for (let i = 0; i < cache.count; i++) {
    const p = perPatient[cache.patientIndex[i]!]!;
    p.slices++;
    const area = cache.tumourPixels[i]!;
    if (area > 0) {
      p.tumourSlices++;
      areas.push(area);
    }
  }
  const kept = perPatient.filter((p) => p.slices > 0);
  const institutions: Record<string, InstitutionCounts> = {};
  for (const p of kept) {
    const c = institutions[p.institution] ?? { patients: 0, slices: 0, tumourSlices: 0 };
    institutions[p.institution] = c;
    c.patients++;
    c.slices += p.slices;
    c.tumourSlices += p.tumourSlices;
  }
  const pixels = cache.width * cache.height;
  return {
    source: index.source,
    layout: index.layout,
    width: cache.width,
    height: cache.height,
    patients: kept.length,
    slices: cache.count,
    tumourSlices: withMasks ? areas.length : undefined,
    institutions,
    tumourAreaPixels: distribution(areas),
    tumourAreaFraction: distribution(areas.map((a) => a / pixels)),
    slicesPerPatient: distribution(kept.map((p) => p.slices))!,
    perPatient: kept,
    clinicalColumns: index.clinicalColumns ?? [],
    notes: cache.notes,
    skippedFiles: cache.problems.length,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

/** The summary as plain text lines for a terminal. */
export function formatSummary(s: DatasetSummary): string {
  const lines: string[] = [];
  lines.push(`dataset: ${s.source} (${s.layout}), slices at ${s.width}×${s.height}`);
  const tumour =
    s.tumourSlices === undefined
      ? 'no masks'
      : `${s.tumourSlices} tumour slices (${pct(s.tumourSlices / s.slices)})`;
  lines.push(`patients: ${s.patients}; slices: ${s.slices}; ${tumour}`);
  lines.push('per institution:');
  for (const [inst, c] of Object.entries(s.institutions).sort()) {
    const t =
      s.tumourSlices === undefined ? '' : `, ${c.tumourSlices} tumour (${pct(c.tumourSlices / c.slices)})`;
    lines.push(
      `  ${inst.padEnd(8)} ${String(c.patients).padStart(3)} patients, ${String(c.slices).padStart(5)} slices${t}`,
    );
  }
  const d = s.tumourAreaPixels;
  const f = s.tumourAreaFraction;
  if (d && f) {
    lines.push(
      `tumour area (tumour slices): mean ${num(d.mean)} px (${pct(f.mean)}), median ${num(d.median)} px, ` +
        `p10 ${num(d.p10)}, p90 ${num(d.p90)}, min ${d.min}, max ${d.max} (${pct(f.max)})`,
    );
  }
  const sp = s.slicesPerPatient;
  lines.push(
    `slices per patient: mean ${num(sp.mean)}, median ${num(sp.median)}, min ${sp.min}, max ${sp.max}`,
  );
  for (const p of s.perPatient) {
    const t = s.tumourSlices === undefined ? '' : `, ${String(p.tumourSlices).padStart(2)} tumour`;
    lines.push(`  ${p.id.padEnd(24)} ${String(p.slices).padStart(3)} slices${t}`);
  }
  if (s.clinicalColumns.length > 0) lines.push(`data.csv columns: ${s.clinicalColumns.join(', ')}`);
  for (const note of s.notes) lines.push(`note: ${note}`);
  if (s.skippedFiles > 0) lines.push(`skipped ${s.skippedFiles} bad file${s.skippedFiles === 1 ? '' : 's'}`);
  return lines.join('\n');
}
