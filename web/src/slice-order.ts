// The order slices are browsed in: patients by name, and within a patient by slice number (so `_10` comes
// after `_9`, unlike a plain string sort); slices whose name has no number go last, by name.
import { groupByPatient } from '../../src/data/group-by-patient.ts';

export interface OrderableSlice {
  name: string;
  patient: string;
  slice: number | null;
}

export function compareSlices(a: OrderableSlice, b: OrderableSlice): number {
  if (a.patient !== b.patient) return a.patient < b.patient ? -1 : 1;
  if (a.slice !== null && b.slice !== null && a.slice !== b.slice) return a.slice - b.slice;
  if (a.slice === null && b.slice !== null) return 1;
  if (a.slice !== null && b.slice === null) return -1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The slices grouped by patient (patients sorted), each group in slice order. Does not modify its input. */
export function slicesByPatient<S extends OrderableSlice>(slices: readonly S[]): Map<string, S[]> {
  return groupByPatient([...slices].sort(compareSlices), (s) => s.patient);
}

/** Index of the slice to show first: the one with the largest predicted tumour, else the middle of the volume. */
export function initialSliceIndex(slices: readonly { areaPixels: number }[]): number {
  let largest = -1;
  slices.forEach((slice, i) => {
    if (slice.areaPixels > 0 && (largest < 0 || slice.areaPixels > slices[largest]!.areaPixels)) largest = i;
  });
  if (largest >= 0) return largest;
  return Math.max(0, Math.floor((slices.length - 1) / 2));
}

/** Moves `current` by `step` within [0, count), clamped (no wrap-around: the ends of a volume are real ends). */
export function stepIndex(current: number, step: number, count: number): number {
  if (count <= 0) return 0;
  return Math.min(count - 1, Math.max(0, current + step));
}
