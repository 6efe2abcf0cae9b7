// 2-D and 3-D connected components on hand-drawn masks with known answers, plus a cross-check against a slow
// reference labelling on random masks (which would catch a neighbour wrapping onto the next row or slice).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// The pure modules directly: the index also loads the engine (libtorch), 1.5 s of start-up these tests do not need.
import {
  labelComponents2D,
  labelSliceComponents,
  removeSmallComponents,
  removeSmallSliceComponents,
} from '../../src/postprocess/components-2d.ts';
import { keepLargest3DComponent, labelComponents3D } from '../../src/postprocess/components-3d.ts';
import { threshold } from '../../src/postprocess/threshold.ts';
import { draw, drawn, randomMask, referenceLabels } from './masks.ts';

const same = (actual: Uint8Array, expected: ReturnType<typeof drawn>) =>
  assert.equal(
    draw(actual, expected.d, expected.h, expected.w),
    draw(expected.mask, expected.d, expected.h, expected.w),
  );

describe('threshold', () => {
  it('tumour iff p >= t (the project rule), NaN never tumour, output 0/1', () => {
    const probs = new Float32Array([0.2, 0.5, 0.7, Number.NaN, 1, 0]);
    assert.deepEqual([...threshold(probs, 0.5)], [0, 1, 1, 0, 1, 0]);
    assert.deepEqual([...threshold(probs, 0)], [1, 1, 1, 0, 1, 1]);
  });
  it('rejects a threshold that is not a finite number', () => {
    assert.throws(() => threshold(new Float32Array(2), Number.NaN), RangeError);
    assert.throws(() => threshold(new Float32Array(2), Number.POSITIVE_INFINITY), RangeError);
  });
});

describe('2-D components (8-connected by default)', () => {
  // 3 rows × 5 columns: not square, so swapping height and width breaks the expected labels.
  const diagonal = drawn(`
    #....
    .#..#
    ..#.#`);

  it('joins pixels touching only at a corner with 8-connectivity', () => {
    const c = labelComponents2D(diagonal.mask, 3, 5);
    assert.equal(c.count, 2);
    assert.deepEqual([...c.labels], [1, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 1, 0, 2]);
    assert.deepEqual([...c.sizes], [0, 3, 2]);
  });
  it('keeps them apart with 4-connectivity; components numbered by first pixel in raster order', () => {
    const c = labelComponents2D(diagonal.mask, 3, 5, 4);
    assert.equal(c.count, 4);
    assert.deepEqual([...c.labels], [1, 0, 0, 0, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 3]);
    assert.deepEqual([...c.sizes], [0, 1, 1, 2, 1]);
  });
  it('does not join the end of a row to the start of the next or of the same row (flat-index neighbours)', () => {
    // Column 0 and column 3 lie 1 (end of a row → start of the next) or w − 1 (the down-left offset from
    // column 0) apart in memory: a neighbour test on flat indices alone would merge them.
    const wrap = drawn(`
      #..#
      #..#
      #...`);
    const c = labelComponents2D(wrap.mask, 3, 4);
    assert.equal(c.count, 2);
    assert.deepEqual([...c.labels], [1, 0, 0, 2, 1, 0, 0, 2, 1, 0, 0, 0]);
  });
  it('empty mask: no components; all ones: one component of every pixel', () => {
    assert.equal(labelComponents2D(new Uint8Array(12), 3, 4).count, 0);
    const all = labelComponents2D(new Uint8Array(12).fill(255), 3, 4);
    assert.equal(all.count, 1);
    assert.deepEqual([...all.sizes], [0, 12]);
  });
  it('rejects a mask whose length is not h × w', () => {
    assert.throws(() => labelComponents2D(new Uint8Array(11), 3, 4), RangeError);
    assert.throws(() => labelComponents2D(new Uint8Array(12), 3.5, 4), RangeError);
  });
});

describe('removeSmallComponents', () => {
  // Components (8-connected): A 4 px at the top-left corner, B 1 px on the right border, C 3 px joined only
  // diagonally, D 1 px in the bottom-right corner.
  const mask = drawn(`
    ##....
    ##...#
    ......
    #.#...
    .#...#`);

  it('removes components of fewer than minArea pixels and keeps those of exactly minArea', () => {
    same(
      removeSmallComponents(mask.mask, 5, 6, 3),
      drawn(`
        ##....
        ##....
        ......
        #.#...
        .#....`),
    );
    same(
      removeSmallComponents(mask.mask, 5, 6, 4),
      drawn(`
        ##....
        ##....
        ......
        ......
        ......`),
    );
    assert.equal(
      removeSmallComponents(mask.mask, 5, 6, 5).reduce((a, b) => a + b, 0),
      0,
    );
  });
  it('counts a diagonal chain as one component (8-connectivity), as three with 4-connectivity', () => {
    const with4 = removeSmallComponents(mask.mask, 5, 6, 2, 4);
    same(
      with4,
      drawn(`
        ##....
        ##....
        ......
        ......
        ......`),
    );
  });
  it('minArea 0 or 1 removes nothing; output is 0/1 whatever the input values; the input is untouched', () => {
    const input = Uint8Array.from(mask.mask, (v) => v * 255);
    const before = input.slice();
    assert.deepEqual(removeSmallComponents(input, 5, 6, 0), mask.mask);
    assert.deepEqual(removeSmallComponents(input, 5, 6, 1), mask.mask);
    assert.deepEqual(input, before);
  });
  it('empty stays empty; all ones stays unless the whole slice is below minArea', () => {
    assert.deepEqual(removeSmallComponents(new Uint8Array(12), 3, 4, 4), new Uint8Array(12));
    const all = new Uint8Array(12).fill(1);
    assert.deepEqual(removeSmallComponents(all, 3, 4, 12), all);
    assert.deepEqual(removeSmallComponents(all, 3, 4, 13), new Uint8Array(12));
  });
  it('rejects a negative or fractional minArea', () => {
    assert.throws(() => removeSmallComponents(mask.mask, 5, 6, -1), RangeError);
    assert.throws(() => removeSmallComponents(mask.mask, 5, 6, 1.5), RangeError);
  });
  it('per slice of a volume: areas are 2-D even where pixels continue into the next slice', () => {
    // Slice 0: 2 px at the last row; slice 1: the same 2 px stacked on them (3-D size 4), and 1 px at the first
    // row, right after slice 0's last row in memory; slice 2: 3 px.
    const volume = drawn(`
      ...
      ...
      ##.

      ..#
      ...
      ##.

      .#.
      ##.
      ...`);
    same(
      removeSmallSliceComponents(volume.mask, 3, 3, 3, 3),
      drawn(`
        ...
        ...
        ...

        ...
        ...
        ...

        .#.
        ##.
        ...`),
    );
    assert.equal(labelSliceComponents(volume.mask, 3, 3, 3).count, 4);
  });
});

describe('3-D components (6-connected by default, as Buda et al.)', () => {
  it('joins voxels only across slices (same row and column in consecutive slices)', () => {
    const v = drawn(`
      #..
      ...
      ...

      #..
      ...
      ...

      ...
      ...
      ..#`);
    const c = labelComponents3D(v.mask, 3, 3, 3);
    assert.equal(c.count, 2);
    assert.deepEqual([...c.sizes], [0, 2, 1]);
  });
  it('corner and edge contacts across slices join with 26- but not 6-connectivity', () => {
    const corner = drawn(`
      #...
      ....

      ....
      .#..`);
    const edge = drawn(`
      #...
      ....

      .#..
      ....`);
    assert.equal(labelComponents3D(corner.mask, 2, 2, 4).count, 2);
    assert.equal(labelComponents3D(corner.mask, 2, 2, 4, 26).count, 1);
    assert.equal(labelComponents3D(edge.mask, 2, 2, 4).count, 2);
    assert.equal(labelComponents3D(edge.mask, 2, 2, 4, 26).count, 1);
  });
  it('does not join the last voxel of a slice to the first of the next (flat neighbours)', () => {
    const v = drawn(`
      ....
      ...#

      #...
      ....`);
    assert.equal(labelComponents3D(v.mask, 2, 2, 4, 26).count, 2);
  });
  it('keeps only the largest 3-D component, even where it is not the largest in any one slice', () => {
    // A: 4 px in slice 0 + 2 px in slice 1 = 6; B: 1 px in a corner; C: 5 px in slice 2, the largest 2-D blob.
    const v = drawn(`
      ##..
      ##..
      ....
      ...#

      ##..
      ....
      ....
      ....

      ....
      ..##
      ..##
      ...#`);
    same(
      keepLargest3DComponent(v.mask, 3, 4, 4),
      drawn(`
        ##..
        ##..
        ....
        ....

        ##..
        ....
        ....
        ....

        ....
        ....
        ....
        ....`),
    );
  });
  it('of components of equal size keeps the one whose first voxel comes first in raster order', () => {
    // X (2 voxels) starts at slice 0 row 2; Y (2 voxels, across slices) starts at slice 0 row 0: Y is kept.
    const v = drawn(`
      ...#
      ....
      ##..

      ...#
      ....
      ....`);
    same(
      keepLargest3DComponent(v.mask, 2, 3, 4),
      drawn(`
        ...#
        ....
        ....

        ...#
        ....
        ....`),
    );
  });
  it('empty stays empty, all ones stays all ones, no slices is fine; 0/1 output; input untouched', () => {
    assert.deepEqual(keepLargest3DComponent(new Uint8Array(24), 2, 3, 4), new Uint8Array(24));
    const all = new Uint8Array(24).fill(255);
    assert.deepEqual(keepLargest3DComponent(all, 2, 3, 4), new Uint8Array(24).fill(1));
    assert.deepEqual(all, new Uint8Array(24).fill(255));
    assert.deepEqual(keepLargest3DComponent(new Uint8Array(0), 0, 3, 4), new Uint8Array(0));
    assert.throws(() => keepLargest3DComponent(new Uint8Array(24), 2, 4, 4), RangeError);
  });
});

describe('labelling agrees with a slow reference on random masks', () => {
  const [d, h, w] = [5, 7, 9];
  for (const density of [0.2, 0.45, 0.7]) {
    for (const seed of [1, 2, 3]) {
      it(`density ${density}, seed ${seed}`, () => {
        const mask = randomMask(d * h * w, density, seed + density * 1000);
        const cases = [
          [labelSliceComponents(mask, d, h, w, 4), { crossSlices: false, maxSteps: 1 }],
          [labelSliceComponents(mask, d, h, w, 8), { crossSlices: false, maxSteps: 2 }],
          [labelComponents3D(mask, d, h, w, 6), { crossSlices: true, maxSteps: 1 }],
          [labelComponents3D(mask, d, h, w, 26), { crossSlices: true, maxSteps: 3 }],
        ] as const;
        for (const [got, o] of cases) {
          const expected = referenceLabels(mask, d, h, w, o);
          assert.deepEqual(got.labels, expected, JSON.stringify(o));
          const sizes = new Int32Array(got.count + 1);
          for (const l of expected) if (l) sizes[l]!++;
          assert.deepEqual(got.sizes, sizes);
        }
      });
    }
  }
});

describe('scale', () => {
  it('a whole 80-slice 256×256 volume of tumour (one 5.2-million-voxel component), no recursion', () => {
    // Not timed: a recursive labelling overflows the stack here, and a quadratic one would not finish.
    const [d, h, w] = [80, 256, 256];
    const all = new Uint8Array(d * h * w).fill(1);
    const kept = keepLargest3DComponent(removeSmallSliceComponents(all, d, h, w, 64), d, h, w);
    assert.equal(kept.length, all.length);
    assert.ok(kept.every((v) => v === 1));
  });
});
