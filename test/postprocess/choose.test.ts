// Choosing the post-processing on validation volumes built so that each step is provably better or worse:
// a false-positive speck (minimum area removes it), a disconnected false-positive blob (only the largest 3-D
// component removes it), a real second tumour (the largest component throws it away) and a tumour tapering to
// a tip smaller than the minimum area (the minimum area cuts it off).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// The pure modules directly: the index also loads the engine (libtorch), 1.5 s of start-up these tests do not need.
import {
  type CandidateScore,
  choosePostprocess,
  choosePostprocessAndTta,
  DEFAULT_POSTPROCESS_GRID,
  type PostprocessGrid,
  pickBest,
  type ValidationVolume,
} from '../../src/postprocess/choose.ts';
import {
  NO_POSTPROCESS,
  type PostprocessConfig,
  parsePostprocessConfig,
} from '../../src/postprocess/config.ts';

const [D, H, W] = [3, 12, 12];
/** A box of voxels: slices z0..z1, rows y0..y1, columns x0..x1 (inclusive). */
type Box = [z0: number, z1: number, y0: number, y1: number, x0: number, x1: number];

function paint(boxes: Box[]): Uint8Array {
  const m = new Uint8Array(D * H * W);
  for (const [z0, z1, y0, y1, x0, x1] of boxes)
    for (let z = z0; z <= z1; z++)
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[(z * H + y) * W + x] = 1;
  return m;
}

/** Probability 0.8 where predicted, 0.1 elsewhere: the same mask at every threshold from 0.3 to 0.7. */
function volume(truth: Box[], predicted: Box[]): ValidationVolume {
  const probs = Float32Array.from(paint(predicted), (v) => (v ? 0.8 : 0.1));
  return { probs, truth: paint(truth), d: D, h: H, w: W };
}

const close = (actual: number, expected: number, what = '') =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} is not ${expected}`);

const GRID: PostprocessGrid = {
  thresholds: [0.3, 0.5, 0.7],
  minComponentAreas: [0, 4],
  largest3DComponent: [false, true],
};

function scoreOf(candidates: CandidateScore[], o: Partial<PostprocessConfig>): number {
  const want = { ...NO_POSTPROCESS, ...o };
  const found = candidates.filter((c) => JSON.stringify(c.config) === JSON.stringify(want));
  assert.equal(found.length, 1, `one candidate ${JSON.stringify(want)}`);
  return found[0]!.meanPatientDice;
}

// 48 tumour voxels: a 4×4 square through the three slices.
const TUMOUR: Box = [0, 2, 2, 5, 2, 5];
const SPECK: Box = [1, 1, 10, 10, 10, 10]; // 1 voxel
const FP_BLOB: Box = [2, 2, 8, 10, 7, 9]; // 9 voxels in one slice, above the minimum area 4

describe('choosePostprocess', () => {
  it('a speck and a disconnected false-positive blob: the largest 3-D component alone is best', () => {
    const choice = choosePostprocess([volume([TUMOUR], [TUMOUR, SPECK, FP_BLOB])], GRID);
    const c = choice.candidates;
    assert.equal(c.length, 3 * 2 * 2);
    for (const t of GRID.thresholds) {
      close(scoreOf(c, { threshold: t }), 96 / 106, 'threshold only');
      close(scoreOf(c, { threshold: t, minComponentArea: 4 }), 96 / 105, 'speck removed');
      close(scoreOf(c, { threshold: t, largest3DComponent: true }), 1, 'largest component');
      close(scoreOf(c, { threshold: t, minComponentArea: 4, largest3DComponent: true }), 1, 'both');
    }
    // Both the largest component alone and with the area step reach 1: the simpler wins, at the threshold 0.5.
    assert.deepEqual(choice.config, {
      threshold: 0.5,
      minComponentArea: 0,
      largest3DComponent: true,
      tta: 'none',
    });
    assert.equal(choice.meanPatientDice, 1);
  });

  it('a real second tumour and a speck: minimum area is best, the largest 3-D component provably worse', () => {
    const second: Box = [1, 1, 8, 10, 8, 10]; // 9 voxels
    const speck: Box = [2, 2, 0, 0, 11, 11];
    const choice = choosePostprocess([volume([TUMOUR, second], [TUMOUR, second, speck])], GRID);
    const c = choice.candidates;
    close(scoreOf(c, {}), 114 / 115);
    close(scoreOf(c, { minComponentArea: 4 }), 1);
    close(scoreOf(c, { largest3DComponent: true }), 96 / 105);
    close(scoreOf(c, { minComponentArea: 4, largest3DComponent: true }), 96 / 105);
    assert.deepEqual(choice.config, {
      threshold: 0.5,
      minComponentArea: 4,
      largest3DComponent: false,
      tta: 'none',
    });
  });

  it('a tumour tapering to a 2-voxel tip: minimum area provably worse, so no step is chosen', () => {
    const tumour: Box[] = [
      [0, 1, 2, 5, 2, 5],
      [2, 2, 2, 2, 2, 3],
    ];
    const choice = choosePostprocess([volume(tumour, tumour)], GRID);
    close(scoreOf(choice.candidates, {}), 1);
    close(scoreOf(choice.candidates, { minComponentArea: 4 }), 64 / 66);
    close(scoreOf(choice.candidates, { largest3DComponent: true }), 1);
    assert.deepEqual(choice.config, NO_POSTPROCESS);
  });

  it('picks the threshold that separates tumour from its uncertain rim', () => {
    const truth = paint([TUMOUR]);
    const rim = paint([[0, 2, 1, 6, 1, 6]]);
    const probs = Float32Array.from(truth, (t, i) => (t ? 0.45 : rim[i] ? 0.35 : 0.1));
    const choice = choosePostprocess([{ probs, truth, d: D, h: H, w: W }], {
      thresholds: [0.3, 0.4, 0.5],
      minComponentAreas: [0],
      largest3DComponent: [false],
    });
    assert.deepEqual(
      choice.candidates.map((c) => c.meanPatientDice),
      [96 / (48 + 108), 1, 0],
    );
    assert.equal(choice.config.threshold, 0.4);
  });

  it('averages Dice per patient volume, leaving out volumes with neither true nor predicted tumour', () => {
    const tumourFreeEmpty = volume([], []);
    const tumourFreeSpeck = volume([], [SPECK]);
    const choice = choosePostprocess(
      [volume([TUMOUR], [TUMOUR, SPECK, FP_BLOB]), tumourFreeEmpty, tumourFreeSpeck],
      GRID,
    );
    const plain = choice.candidates[4]!; // grid order: 0.3 × (area 0, 4) × (off, on), then 0.5, area 0, off
    assert.deepEqual(plain.config, NO_POSTPROCESS);
    assert.equal(plain.scoredPatients, 2);
    close(plain.perPatientDice[0]!, 96 / 106);
    assert.ok(Number.isNaN(plain.perPatientDice[1]!));
    assert.equal(plain.perPatientDice[2], 0); // predicted tumour where there is none: 0, and it counts
    close(plain.meanPatientDice, 96 / 106 / 2);
    // With the speck removed the third volume has no tumour either way, and drops out of the mean.
    const both = scoreOf(choice.candidates, { minComponentArea: 4, largest3DComponent: true });
    assert.equal(both, 1);
    assert.deepEqual(choice.config, {
      threshold: 0.5,
      minComponentArea: 4,
      largest3DComponent: true,
      tta: 'none',
    });
    // NaN is written as null: the table is JSON for the report.
    assert.match(JSON.stringify(choice), /"perPatientDice":\[[^\]]*null/);
  });

  it('lists every candidate in grid order with a config that validates', () => {
    const choice = choosePostprocess([volume([TUMOUR], [TUMOUR])]);
    const g = DEFAULT_POSTPROCESS_GRID;
    assert.equal(choice.candidates.length, g.thresholds.length * g.minComponentAreas.length * 2);
    assert.deepEqual(choice.candidates[0]!.config, {
      threshold: 0.3,
      minComponentArea: 0,
      largest3DComponent: false,
      tta: 'none',
    });
    assert.deepEqual(choice.candidates[1]!.config.largest3DComponent, true);
    assert.deepEqual(choice.candidates[2]!.config.minComponentArea, 16);
    for (const c of choice.candidates) assert.deepEqual(parsePostprocessConfig(c.config), c.config);
    assert.deepEqual(choice.config, NO_POSTPROCESS); // perfect everywhere: the simplest at 0.5
  });

  it('ties between thresholds equally far from 0.5 go to the higher one; tta is recorded', () => {
    const choice = choosePostprocess(
      [volume([TUMOUR], [TUMOUR])],
      { thresholds: [0.4, 0.6], minComponentAreas: [0], largest3DComponent: [false] },
      { tta: 'flips' },
    );
    assert.deepEqual(choice.config, {
      threshold: 0.6,
      minComponentArea: 0,
      largest3DComponent: false,
      tta: 'flips',
    });
  });

  it('refuses what cannot be chosen on', () => {
    const ok = volume([TUMOUR], [TUMOUR]);
    assert.throws(() => choosePostprocess([]), /no validation volumes/);
    assert.throws(() => choosePostprocess([volume([], [SPECK])]), /no validation volume holds tumour/);
    assert.throws(() => choosePostprocess([{ ...ok, truth: new Uint8Array(5) }]), RangeError);
    assert.throws(() => choosePostprocess([{ ...ok, d: 2 }]), RangeError);
    assert.throws(() => choosePostprocess([ok], { ...GRID, thresholds: [] }));
    assert.throws(() => choosePostprocess([ok], { ...GRID, thresholds: [1.5] }));
    assert.throws(() => choosePostprocess([ok], { ...GRID, minComponentAreas: [-16] }));
  });
});

describe('choosePostprocessAndTta', () => {
  it('chooses TTA when its probabilities score better, and not when they only tie', () => {
    const withHole = volume([TUMOUR], [TUMOUR]);
    withHole.probs[(1 * H + 3) * W + 3] = 0.1; // one tumour voxel missed without TTA
    const perfect = volume([TUMOUR], [TUMOUR]);
    const better = choosePostprocessAndTta({ none: [withHole], flips: [perfect] }, GRID);
    assert.equal(better.candidates.length, 2 * 12);
    assert.equal(better.candidates[0]!.config.tta, 'none');
    assert.equal(better.candidates[12]!.config.tta, 'flips');
    assert.deepEqual(better.config, { ...NO_POSTPROCESS, tta: 'flips' });
    const tie = choosePostprocessAndTta({ none: [perfect], flips: [perfect] }, GRID);
    assert.deepEqual(tie.config, NO_POSTPROCESS);
    assert.throws(() => choosePostprocessAndTta({}, GRID));
    assert.throws(() => choosePostprocessAndTta({ none: [perfect], flips: [perfect, perfect] }, GRID));
  });
});

describe('pickBest', () => {
  const candidate = (meanPatientDice: number, o: Partial<PostprocessConfig>): CandidateScore => ({
    config: { ...NO_POSTPROCESS, ...o },
    meanPatientDice,
    perPatientDice: [meanPatientDice],
    scoredPatients: 1,
  });

  it('the highest Dice wins whatever its complexity; NaN never wins', () => {
    const best = candidate(0.81, {
      threshold: 0.7,
      minComponentArea: 128,
      largest3DComponent: true,
      tta: 'flips',
    });
    assert.equal(pickBest([candidate(Number.NaN, {}), candidate(0.8, {}), best]), best);
  });
  it('among ties: fewest steps, then threshold nearest 0.5, then higher threshold, then no TTA, then no 3-D step, then smaller area', () => {
    const order = [
      candidate(0.8, { threshold: 0.3 }),
      candidate(0.8, { threshold: 0.5, minComponentArea: 16 }),
      candidate(0.8, { threshold: 0.4, minComponentArea: 16 }),
      candidate(0.8, { threshold: 0.6, largest3DComponent: true }),
      candidate(0.8, { threshold: 0.6, tta: 'flips' }),
      candidate(0.8, { threshold: 0.6, minComponentArea: 64 }),
      candidate(0.8, { threshold: 0.6, minComponentArea: 16 }),
    ];
    // Expected rank: 0 (no step) · 1 (one step, at 0.5) · then one step at 0.4 or 0.6 → 0.6 first → of those, no
    // TTA first → of those, no 3-D step first → smaller area first: 6, 5, 3, 4 · last 2 (0.4).
    const expected = [0, 1, 6, 5, 3, 4, 2].map((i) => order[i]!);
    const remaining = [...order].reverse(); // the input order must not matter
    for (let k = 0; k < expected.length; k++) {
      const best = pickBest(remaining);
      assert.equal(best, expected[k], `rank ${k}: ${JSON.stringify(best.config)}`);
      remaining.splice(remaining.indexOf(best), 1);
    }
  });
  it('differences below 1e-12 are ties (rounding of a mean), larger ones are not', () => {
    const simple = candidate(0.8, {});
    const complex = candidate(0.8 + 1e-13, { minComponentArea: 16 });
    assert.equal(pickBest([complex, simple]), simple);
    const better = candidate(0.8 + 1e-9, { minComponentArea: 16 });
    assert.equal(pickBest([simple, better]), better);
  });
});
