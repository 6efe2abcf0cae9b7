// Grouping by patient: the one helper behind every per-patient loop (volumes to predict, evaluation records,
// validation volumes, the viewer's slices). Pure, so the viewer uses it too.
import type { SliceCache } from './slice-cache.ts';

/** The items grouped by patient: patients in the order they first appear, each group in the items' order. */
export function groupByPatient<T, K = string>(items: Iterable<T>, patientOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const patient = patientOf(item);
    const group = groups.get(patient);
    if (group) group.push(item);
    else groups.set(patient, [item]);
  }
  return groups;
}

/** Cache positions grouped into patient volumes, each in the order given (a cache holds slices in order). */
export function patientVolumes(
  indices: readonly number[],
  cache: Pick<SliceCache, 'patientIndex'>,
): number[][] {
  return [...groupByPatient(indices, (i) => cache.patientIndex[i]!).values()];
}
