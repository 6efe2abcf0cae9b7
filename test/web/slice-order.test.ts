// The order slices are browsed in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareSlices, initialSliceIndex, slicesByPatient, stepIndex } from '../../web/src/slice-order.ts';

const slice = (patient: string, n: number | null, name = `${patient}_${n}.tif`) => ({
  name,
  patient,
  slice: n,
});

describe('slice order', () => {
  it('orders by patient, then slice number numerically, unnumbered last', () => {
    const slices = [
      slice('B', 1),
      slice('A', 10),
      slice('A', null, 'A_extra.png'),
      slice('A', 9),
      slice('A', 2),
    ];
    assert.deepEqual(
      [...slices].sort(compareSlices).map((s) => s.name),
      ['A_2.tif', 'A_9.tif', 'A_10.tif', 'A_extra.png', 'B_1.tif'],
    );
  });

  it('groups by patient without changing its input', () => {
    const slices = [slice('B', 2), slice('A', 1), slice('B', 1)];
    const before = slices.map((s) => s.name);
    const groups = slicesByPatient(slices);
    assert.deepEqual([...groups.keys()], ['A', 'B']);
    assert.deepEqual(
      groups.get('B')!.map((s) => s.slice),
      [1, 2],
    );
    assert.deepEqual(
      slices.map((s) => s.name),
      before,
    );
  });

  it('starts at the largest predicted tumour (the first of equals), else the middle', () => {
    const areas = (...a: number[]) => a.map((areaPixels) => ({ areaPixels }));
    assert.equal(initialSliceIndex(areas(0, 5, 9, 9, 2)), 2);
    assert.equal(initialSliceIndex(areas(0, 0, 0)), 1);
    assert.equal(initialSliceIndex([]), 0);
  });

  it('steps within the volume without wrapping', () => {
    assert.equal(stepIndex(0, -1, 5), 0);
    assert.equal(stepIndex(3, 10, 5), 4);
    assert.equal(stepIndex(2, 1, 5), 3);
    assert.equal(stepIndex(0, 1, 0), 0);
  });
});
