// The fusion of the two stages (which slices get segmented) and the slice graph that scores gating and the
// largest 3-D component without touching voxels: the graph must agree with the voxel pipeline it replaces
// (gate, remove small components, keep the largest 3-D component) on every random volume.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postprocessMask } from '../../src/postprocess/apply.ts';
import {
  callSlices,
  DEFAULT_GATE_THRESHOLD,
  fusionConfigSchema,
  rawSliceScores,
  referenceGate,
  resolveGate,
  sliceMaxima,
  smoothAlongSlices,
} from '../../src/postprocess/fusion.ts';
import { sliceGraph, sliceOutcome } from '../../src/postprocess/slice-graph.ts';
import { randomMask } from './masks.ts';

describe('fusion of the two stages', () => {
  const classifier = [0.9, 0.1, 0.2, 0.8];
  const segmenterMax = [0.7, 0.9, 0.0, 0.6];
  it('scores a slice by the classifier, the segmenter or their mean', () => {
    assert.deepEqual(
      [...rawSliceScores('classifier', { classifier, segmenterMax })],
      [0.9, 0.1, 0.2, 0.8].map(Math.fround),
    );
    assert.deepEqual(
      [...rawSliceScores('segmenter', { classifier, segmenterMax })],
      segmenterMax.map(Math.fround),
    );
    assert.deepEqual(
      [...rawSliceScores('mean', { classifier, segmenterMax })],
      [0.8, 0.5, 0.1, 0.7].map(Math.fround),
    );
  });
  it('names the missing input', () => {
    assert.throws(() => rawSliceScores('mean', { classifier }), /segmenterMax/);
  });
  it('smooths within the volume, with fewer neighbours at its ends', () => {
    assert.deepEqual([...smoothAlongSlices([3, 0, 0, 6], 1)], [1.5, 1, 2, 3]);
    assert.deepEqual([...smoothAlongSlices([3, 0, 0, 6], 0)], [3, 0, 0, 6]);
  });
  it('calls slices at or above the threshold; threshold 0 calls every slice', () => {
    assert.deepEqual(callSlices({ detector: 'classifier', sliceRadius: 0, threshold: 0.8 }, { classifier }), [
      true,
      false,
      false,
      true,
    ]);
    assert.deepEqual(callSlices({ detector: 'segmenter', sliceRadius: 0, threshold: 0 }, { segmenterMax }), [
      true,
      true,
      true,
      true,
    ]);
  });
  it('rejects a misspelt config key', () => {
    assert.throws(() =>
      fusionConfigSchema.parse({ detector: 'mean', sliceRadius: 1, threshold: 0.5, radius: 2 }),
    );
  });
  it('takes each slice maximum, scaled', () => {
    assert.deepEqual(
      [...sliceMaxima(new Uint8Array([0, 255, 51, 0, 0, 0]), 3, 2, 1 / 255)],
      [1, 0.2, 0].map(Math.fround),
    );
  });
});

describe('the gate a run uses', () => {
  const saved = { detector: 'mean' as const, sliceRadius: 1, threshold: 0.45 };
  it('is the saved rule, else the classifier alone at its own threshold', () => {
    assert.deepEqual(resolveGate(saved, 0.2), saved);
    assert.deepEqual(resolveGate(undefined, 0.2), referenceGate(0.2));
    assert.deepEqual(referenceGate(0.2), { detector: 'classifier', sliceRadius: 0, threshold: 0.2 });
  });
  it('keeps the saved threshold and radius for the saved detector, defaults for another', () => {
    assert.deepEqual(resolveGate(saved, 0.2, { gate: 'mean' }), saved);
    assert.deepEqual(resolveGate(saved, 0.2, { gate: 'classifier' }), referenceGate(0.2));
    assert.deepEqual(resolveGate(undefined, 0.2, { gate: 'segmenter' }), {
      detector: 'segmenter',
      sliceRadius: 0,
      threshold: DEFAULT_GATE_THRESHOLD,
    });
  });
  it('takes explicit values over either, and none calls every slice', () => {
    assert.deepEqual(resolveGate(saved, 0.2, { threshold: 0.6 }), { ...saved, threshold: 0.6 });
    assert.deepEqual(resolveGate(undefined, 0.2, { gate: 'segmenter', sliceRadius: 2 }), {
      detector: 'segmenter',
      sliceRadius: 2,
      threshold: DEFAULT_GATE_THRESHOLD,
    });
    assert.equal(resolveGate(saved, 0.2, { gate: 'none' }).threshold, 0);
    assert.throws(() => resolveGate(saved, 0.2, { gate: 'none', threshold: 0.3 }), /takes no threshold/);
    assert.throws(() => resolveGate(saved, 0.2, { sliceRadius: 9 }));
  });
});

describe('slice graph', () => {
  const [d, h, w] = [6, 9, 11];
  const px = h * w;
  for (let seed = 1; seed <= 40; seed++) {
    it(`agrees with gating + small-component removal + largest 3-D component on random volume ${seed}`, () => {
      const mask = randomMask(d * px, 0.15 + (seed % 5) * 0.08, seed);
      const truth = randomMask(d * px, 0.3, seed + 1000);
      const called = Array.from({ length: d }, (_, k) => (seed >> k) % 3 !== 0);
      const minArea = [0, 2, 4][seed % 3]!;
      const graph = sliceGraph(mask, truth, d, h, w, minArea);
      for (const largest of [false, true]) {
        const gated = mask.slice();
        called.forEach((c, k) => {
          if (!c) gated.fill(0, k * px, (k + 1) * px);
        });
        const expected = postprocessMask(gated, d, h, w, {
          minComponentArea: minArea,
          largest3DComponent: largest,
        });
        const got = sliceOutcome(graph, called, largest);
        for (let k = 0; k < d; k++) {
          let pred = 0;
          let hit = 0;
          for (let i = k * px; i < (k + 1) * px; i++) {
            pred += expected[i]!;
            if (expected[i] && truth[i]) hit++;
          }
          assert.equal(got.pred[k], pred, `slice ${k} predicted voxels (largest 3-D: ${largest})`);
          assert.equal(got.hit[k], hit, `slice ${k} voxels also in the truth (largest 3-D: ${largest})`);
        }
      }
    });
  }
  it('keeps the first of two equal components in raster order', () => {
    // Two 2-voxel blobs in slices 0 and 2; slice 1 empty.
    const mask = new Uint8Array(3 * 4);
    mask[2] = mask[3] = 1; // slice 0, second row
    mask[10] = mask[11] = 1; // slice 2
    const truth = new Uint8Array(12);
    truth[10] = 1;
    const out = sliceOutcome(sliceGraph(mask, truth, 3, 2, 2, 0), [true, true, true], true);
    assert.deepEqual([...out.pred], [2, 0, 0]);
    assert.deepEqual([...out.hit], [0, 0, 0]);
  });
});
