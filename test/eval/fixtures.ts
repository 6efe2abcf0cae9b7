// Synthetic evaluation data for the eval tests: a tiny hand-computed set and a larger seeded random one.
import type { ModelInfo } from '../../src/eval/metrics-json.ts';
import type { SliceRecord } from '../../src/eval/slices.ts';
import type { Overlap } from '../../src/metrics/segmentation.ts';

function o(trueVoxels: number, predVoxels: number, intersection: number): Overlap {
  return { intersection, trueVoxels, predVoxels };
}

/**
 * Three patients, seven slices; every figure below is worked out by hand in the tests.
 * A: tumour on slices 1 and 3, pooled T=4 P=3 I=2. B: no tumour, nothing predicted (Dice undefined).
 * C: tumour on slice 1, a false positive on slice 2, pooled T=2 P=4 I=2.
 */
export const handRecords: SliceRecord[] = [
  { patient: 'A', slice: 1, score: 0.9, trueLabel: 1, segmenter: o(3, 3, 2), endToEnd: o(3, 3, 2) },
  { patient: 'A', slice: 2, score: 0.2, trueLabel: 0, endToEnd: o(0, 0, 0) },
  { patient: 'A', slice: 3, score: 0.3, trueLabel: 1, segmenter: o(1, 1, 1), endToEnd: o(1, 0, 0) },
  { patient: 'B', slice: 1, score: 0.1, trueLabel: 0, endToEnd: o(0, 0, 0) },
  { patient: 'B', slice: 2, score: 0.6, trueLabel: 0, endToEnd: o(0, 0, 0) },
  { patient: 'C', slice: 1, score: 0.7, trueLabel: 1, segmenter: o(2, 2, 2), endToEnd: o(2, 2, 2) },
  { patient: 'C', slice: 2, score: 0.8, trueLabel: 0, endToEnd: o(0, 2, 0) },
];

export const testModels: { classifier: ModelInfo; segmenter: ModelInfo } = {
  classifier: {
    name: 'densenet121',
    config: { imageSize: 256 },
    files: [{ path: 'c.safetensors', sha256: 'a'.repeat(64) }],
  },
  segmenter: {
    name: 'resunet',
    config: { imageSize: 256 },
    files: [{ path: 's.safetensors', sha256: 'b'.repeat(64) }],
  },
};

/** Mulberry32: a small seeded PRNG so the random fixtures are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Plausible records for `patients` patients of `slicesEach` slices, about a third with tumour. */
export function randomRecords(patients: number, slicesEach: number, seed = 1): SliceRecord[] {
  const rand = seededRandom(seed);
  const records: SliceRecord[] = [];
  for (let p = 0; p < patients; p++) {
    const patient = `TCGA_XX_${String(p).padStart(4, '0')}`;
    for (let s = 1; s <= slicesEach; s++) {
      const tumour = s > slicesEach / 3 && s <= (2 * slicesEach) / 3;
      const score = Math.min(1, Math.max(0, (tumour ? 0.7 : 0.3) + (rand() - 0.5) * 0.8));
      const trueVoxels = tumour ? 100 + Math.floor(rand() * 400) : 0;
      const hit = tumour ? Math.floor(trueVoxels * (0.5 + rand() * 0.5)) : 0;
      const gated = score >= 0.5;
      const spurious = !tumour && gated && rand() < 0.3 ? 20 : 0;
      const predVoxels = gated ? hit + Math.floor(rand() * 50) + spurious : 0;
      records.push({
        patient,
        slice: s,
        score,
        trueLabel: tumour ? 1 : 0,
        ...(tumour ? { segmenter: o(trueVoxels, hit + 10, hit) } : {}),
        endToEnd: o(trueVoxels, predVoxels, gated ? hit : 0),
      });
    }
  }
  return records;
}
