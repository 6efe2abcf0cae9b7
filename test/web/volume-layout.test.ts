// Where slices lie in the volume the planes show, and the volume stacked from slices.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outlineOf } from '../../web/src/mask-overlay.ts';
import {
  axialAxisOf,
  axialOutline,
  fractionOfSlice,
  type SlicePixels,
  sliceOfFraction,
  volumeOfSlices,
} from '../../web/src/volume-layout.ts';

/** Voxel (i, j, k) of an affine given as 16 row-major numbers, in world mm. */
function world(affine: number[], i: number, j: number, k: number): number[] {
  return [0, 1, 2].map(
    (r) => affine[4 * r]! * i + affine[4 * r + 1]! * j + affine[4 * r + 2]! * k + affine[4 * r + 3]!,
  );
}

describe('axialAxisOf', () => {
  it('finds the Inferior–Superior voxel axis and its direction from the orientation codes', () => {
    assert.deepEqual(axialAxisOf('LPS', [4, 5, 6]), { axis: 2, depth: 6, up: true });
    assert.deepEqual(axialAxisOf('RAI', [4, 5, 6]), { axis: 2, depth: 6, up: false });
    assert.deepEqual(axialAxisOf('PIR', [4, 5, 6]), { axis: 1, depth: 5, up: false });
    assert.deepEqual(axialAxisOf('slr', [4, 5, 6]), { axis: 0, depth: 4, up: true });
    assert.throws(() => axialAxisOf('LPR', [4, 5, 6]), /orientation 'LPR' names no Inferior–Superior/);
  });
});

describe('fractionOfSlice and sliceOfFraction', () => {
  it('put slice s at its voxel centre from below, counting from the top when slices run downwards', () => {
    const up = { axis: 2 as const, depth: 4, up: true };
    const down = { ...up, up: false };
    assert.deepEqual(
      [0, 1, 2, 3].map((s) => fractionOfSlice(s, up)),
      [0.125, 0.375, 0.625, 0.875],
    );
    assert.deepEqual(
      [0, 1, 2, 3].map((s) => fractionOfSlice(s, down)),
      [0.875, 0.625, 0.375, 0.125],
    );
    for (const axial of [up, down]) {
      for (let s = 0; s < 4; s++) {
        assert.equal(sliceOfFraction(fractionOfSlice(s, axial), axial), s);
        // Anywhere inside the voxel, not only at its centre.
        assert.equal(sliceOfFraction(fractionOfSlice(s, axial) + 0.1, axial), s);
      }
    }
    assert.equal(sliceOfFraction(-0.5, up), 0);
    assert.equal(sliceOfFraction(1.5, up), 3);
    assert.equal(sliceOfFraction(1.5, down), 0);
  });
});

describe('volumeOfSlices', () => {
  /** A 3 × 2 slice whose R, G, B at pixel p are (10k + p, 100 + p, 200 + k), tumour at pixel `tumour`. */
  function slice(k: number, tumour: number | null): SlicePixels {
    const rgba = new Uint8Array(3 * 2 * 4);
    for (let p = 0; p < 6; p++) rgba.set([10 * k + p, 100 + p, 200 + k, 255], 4 * p);
    const mask = tumour === null ? null : Uint8Array.from({ length: 6 }, (_, p) => (p === tumour ? 1 : 0));
    return { name: `P_${k + 1}.tif`, width: 3, height: 2, rgba, mask };
  }

  it('stacks pixel (x, y) of slice k at voxel (x, y, k), one frame per channel, the masks alike', () => {
    const volume = volumeOfSlices([slice(0, 4), slice(1, null), slice(2, 0)]);
    assert.deepEqual(volume.dims, [3, 2, 3]);
    assert.deepEqual(volume.axial, { axis: 2, depth: 3, up: true });
    const voxels = 3 * 2 * 3;
    const at = (x: number, y: number, k: number) => x + 3 * (y + 2 * k);
    for (let k = 0; k < 3; k++) {
      for (let p = 0; p < 6; p++) {
        const [x, y] = [p % 3, Math.floor(p / 3)];
        assert.equal(volume.channels[at(x, y, k)], 10 * k + p);
        assert.equal(volume.channels[voxels + at(x, y, k)], 100 + p);
        assert.equal(volume.channels[2 * voxels + at(x, y, k)], 200 + k);
      }
    }
    assert.deepEqual(
      [...volume.mask].flatMap((v, i) => (v ? [i] : [])),
      [at(1, 1, 0), at(0, 0, 2)],
    );
  });

  it('gives 1 mm voxels, x towards the left, y towards posterior, slices upwards, centred', () => {
    const { affine } = volumeOfSlices([slice(0, null), slice(1, null), slice(2, null)]);
    const origin = world(affine, 0, 0, 0);
    const step = (i: number, j: number, k: number) => world(affine, i, j, k).map((v, r) => v - origin[r]!);
    assert.deepEqual(step(1, 0, 0), [-1, 0, 0]);
    assert.deepEqual(step(0, 1, 0), [0, -1, 0]);
    assert.deepEqual(step(0, 0, 1), [0, 0, 1]);
    assert.deepEqual(world(affine, 1, 0.5, 1), [0, 0, 0]);
    assert.deepEqual(affine.slice(12), [0, 0, 0, 1]);
  });

  it('refuses slices of different sizes, naming them, and no slices at all', () => {
    const odd = { ...slice(1, null), width: 2, height: 3 };
    assert.throws(
      () => volumeOfSlices([slice(0, null), odd]),
      /^Error: P_2\.tif is 2×3 pixels where P_1\.tif is 3×2: slices of different sizes make no volume/,
    );
    assert.throws(() => volumeOfSlices([]), /no slices/);
  });
});

describe('axialOutline', () => {
  it('outlines every axial slice in its own plane, whichever voxel axis the slices are cut across', () => {
    // A 4 × 4 × 3 block of tumour in a 6 × 6 × 5 grid, stored with the axial axis first, second or last.
    const n = [6, 6, 5] as const;
    const inside = (a: number, b: number, s: number) =>
      a >= 1 && a <= 4 && b >= 1 && b <= 4 && s >= 1 && s <= 3;
    for (const axis of [0, 1, 2] as const) {
      const [a, b] = [0, 1, 2].filter((d) => d !== axis) as [number, number];
      const dims = [0, 0, 0] as [number, number, number];
      dims[a] = n[0];
      dims[b] = n[1];
      dims[axis] = n[2];
      const index = (u: number, v: number, s: number) => {
        const c = [0, 0, 0];
        c[a] = u;
        c[b] = v;
        c[axis] = s;
        return c[0]! + dims[0] * (c[1]! + dims[1] * c[2]!);
      };
      const mask = new Uint8Array(dims[0] * dims[1] * dims[2]);
      for (let s = 0; s < n[2]; s++)
        for (let v = 0; v < n[1]; v++)
          for (let u = 0; u < n[0]; u++) mask[index(u, v, s)] = inside(u, v, s) ? 1 : 0;
      const outline = axialOutline(mask, dims, axis);
      for (let s = 0; s < n[2]; s++) {
        const plane = Uint8Array.from(
          { length: n[0] * n[1] },
          (_, p) => mask[index(p % n[0], Math.floor(p / n[0]), s)]!,
        );
        const want = outlineOf(plane, n[0], n[1]);
        const got = Uint8Array.from(
          { length: n[0] * n[1] },
          (_, p) => outline[index(p % n[0], Math.floor(p / n[0]), s)]!,
        );
        assert.deepEqual(got, want, `axis ${axis}, slice ${s}`);
      }
      // A 4 × 4 square keeps its 12 border pixels on each of its 3 slices; the 2 × 2 inside is emptied.
      assert.equal(
        outline.reduce((sum, v) => sum + v, 0),
        3 * 12,
        `axis ${axis}`,
      );
    }
  });
});
