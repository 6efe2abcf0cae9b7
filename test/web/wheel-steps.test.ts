// Mouse wheel → slice steps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wheelStep } from '../../web/src/wheel-steps.ts';

function stepsOf(deltas: number[], mode = 0): number[] {
  let state = { pending: 0 };
  return deltas.map((delta) => {
    const result = wheelStep(state, delta, mode);
    state = result.state;
    return result.step;
  });
}

describe('wheelStep', () => {
  it('moves one slice per wheel notch, whatever its size', () => {
    assert.deepEqual(stepsOf([100, 100, -120]), [1, 1, -1]);
    assert.deepEqual(stepsOf([3, -3], 1), [1, -1], 'lines (Firefox)');
  });

  it('sums small trackpad deltas until they make a slice', () => {
    assert.deepEqual(stepsOf([10, 10, 10, 10, 10, 10]), [0, 0, 0, 0, 1, 0]);
  });

  it('starts afresh when the direction reverses', () => {
    assert.deepEqual(stepsOf([40, -20, -20, -10]), [0, 0, 0, -1]);
  });

  it('ignores an event without vertical scroll', () => {
    assert.deepEqual(stepsOf([0]), [0]);
  });
});
