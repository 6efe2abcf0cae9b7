// What the evaluator records per slice. Masks are reduced to voxel counts at once, so evaluating thousands of
// 256x256 slices never holds their masks in memory, and every metric is a function of these records.
import { groupByPatient } from '../data/group-by-patient.ts';
import { maskOverlap, type Overlap } from '../metrics/segmentation.ts';

/** One slice as the models saw it, with full masks. */
export interface SlicePrediction {
  patient: string;
  /** Slice number within the patient's volume (1-based in the dataset). */
  slice: number;
  /** Stage 1: the classifier's probability of tumour. */
  score: number;
  /** Ground truth, non-zero = tumour. */
  trueMask: Uint8Array;
  /** Stage 2 alone: the segmenter's binary output, not gated by the classifier. Needed on true tumour slices. */
  segmenterMask?: Uint8Array;
  /** End to end: the final output after classifier gating and post-processing (all zero when gated out). */
  finalMask: Uint8Array;
}

/** One slice reduced to what the metrics need. */
export interface SliceRecord {
  patient: string;
  slice: number;
  score: number;
  /** 1 when the ground-truth mask holds any tumour voxel. */
  trueLabel: 0 | 1;
  /** Stage 2 alone against the truth; absent where the segmenter was not evaluated. */
  segmenter?: Overlap;
  /** The end-to-end output against the truth. */
  endToEnd: Overlap;
}

export function toSliceRecord(p: SlicePrediction): SliceRecord {
  const endToEnd = maskOverlap(p.trueMask, p.finalMask);
  const record: SliceRecord = {
    patient: p.patient,
    slice: p.slice,
    score: p.score,
    trueLabel: endToEnd.trueVoxels > 0 ? 1 : 0,
    endToEnd,
  };
  if (p.segmenterMask !== undefined) record.segmenter = maskOverlap(p.trueMask, p.segmenterMask);
  return record;
}

/** Throws on records that contradict themselves or repeat a (patient, slice) pair. */
export function checkSliceRecords(records: readonly SliceRecord[]): void {
  const seen = new Set<string>();
  for (const r of records) {
    const key = `${r.patient}\u0000${r.slice}`;
    if (seen.has(key)) throw new RangeError(`slice ${r.slice} of patient ${r.patient} appears twice`);
    seen.add(key);
    if (!Number.isFinite(r.score)) throw new RangeError(`slice ${r.slice} of ${r.patient}: score ${r.score}`);
    for (const o of r.segmenter === undefined ? [r.endToEnd] : [r.endToEnd, r.segmenter]) {
      if ((o.trueVoxels > 0 ? 1 : 0) !== r.trueLabel) {
        throw new RangeError(
          `slice ${r.slice} of ${r.patient}: trueLabel ${r.trueLabel} but ${o.trueVoxels} true voxels`,
        );
      }
      if (o.intersection > Math.min(o.trueVoxels, o.predVoxels) || o.intersection < 0) {
        throw new RangeError(`slice ${r.slice} of ${r.patient}: intersection larger than a mask`);
      }
    }
  }
}

/** Records grouped by patient, patients in sorted order, slices in numeric order. */
export function recordsByPatient(records: readonly SliceRecord[]): Map<string, SliceRecord[]> {
  const groups = groupByPatient(records, (r) => r.patient);
  const sorted = new Map([...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  for (const group of sorted.values()) group.sort((a, b) => a.slice - b.slice);
  return sorted;
}
