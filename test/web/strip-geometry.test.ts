// Geometry of the probability strip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barsOf, centreOfSlice, sliceAtX, yOfProbability } from '../../web/src/strip-geometry.ts';

const layout = { width: 100, height: 60, padding: 5 };

describe('strip geometry', () => {
  it('maps probability 1 to the top and 0 to the bottom, inside the padding', () => {
    assert.equal(yOfProbability(layout, 1), 5);
    assert.equal(yOfProbability(layout, 0), 55);
    assert.equal(yOfProbability(layout, 0.5), 30);
    assert.equal(yOfProbability(layout, 2), 5, 'clamped');
  });

  it('lays one bar per slice across the width, as tall as its probability', () => {
    const bars = barsOf(layout, [0, 0.5, 1, 0.2], 0.5);
    assert.equal(bars.length, 4);
    assert.deepEqual(
      bars.map((b) => b.x),
      [0, 25, 50, 75],
    );
    assert.deepEqual(
      bars.map((b) => b.aboveThreshold),
      [false, true, true, false],
    );
    assert.equal(bars[2]!.y, 5);
    assert.equal(bars[2]!.height, 50);
    assert.equal(bars[0]!.height, 1, 'a zero still shows as a 1 px bar');
    assert.equal(bars[1]!.y + bars[1]!.height, 55, 'bars stand on the baseline');
    assert.equal(bars[0]!.width, 24, 'a 1 px gap between wide columns');
  });

  it('leaves no gap between narrow columns', () => {
    const bars = barsOf(layout, new Array(50).fill(0.3), 0.5);
    assert.equal(bars[0]!.width, 2);
  });

  it('turns a click position back into the slice under it, clamped', () => {
    assert.equal(sliceAtX(layout, 0, 4), 0);
    assert.equal(sliceAtX(layout, 24.9, 4), 0);
    assert.equal(sliceAtX(layout, 25, 4), 1);
    assert.equal(sliceAtX(layout, 99.9, 4), 3);
    assert.equal(sliceAtX(layout, 150, 4), 3);
    assert.equal(sliceAtX(layout, -3, 4), 0);
    assert.equal(sliceAtX(layout, 10, 0), 0);
  });

  it('puts the current-slice marker at the centre of its column', () => {
    assert.equal(centreOfSlice(layout, 0, 4), 12.5);
    assert.equal(centreOfSlice(layout, 3, 4), 87.5);
  });
});
