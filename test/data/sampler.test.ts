// Samplers: uniform visits every slice once, class-balanced draws tumour half the time, oversampling by its
// factor, tumour-only never draws an empty slice; all repeat for a seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../src/data/random.ts';
import { epochIndices, samplingWeights } from '../../src/data/sampler.ts';

/** 1000 slices, 10% with tumour. */
const POSITIVE = Array.from({ length: 1000 }, (_, i) => i % 10 === 0);

function positiveShare(indices: Uint32Array): number {
  let n = 0;
  for (const i of indices) if (POSITIVE[i]) n++;
  return n / indices.length;
}

test('uniform: every slice once, in a seeded order', () => {
  const order = epochIndices(POSITIVE, { kind: 'uniform' }, mulberry32(1));
  assert.equal(order.length, 1000);
  assert.equal(new Set(order).size, 1000);
  assert.deepEqual(order, epochIndices(POSITIVE, { kind: 'uniform' }, mulberry32(1)));
  assert.notDeepEqual(order, epochIndices(POSITIVE, { kind: 'uniform' }, mulberry32(2)));
});

test('class-balanced draws tumour slices about half the time', () => {
  const order = epochIndices(POSITIVE, { kind: 'class-balanced' }, mulberry32(2), 20000);
  const share = positiveShare(order);
  assert.ok(Math.abs(share - 0.5) < 0.02, `tumour share ${share}`);
  const w = samplingWeights([true, true, true], { kind: 'class-balanced' });
  assert.deepEqual([...w], [1 / 3, 1 / 3, 1 / 3], 'one class only: uniform');
});

test('tumour oversampling draws tumour slices `factor` times as often', () => {
  const order = epochIndices(POSITIVE, { kind: 'tumour-oversampling', factor: 4 }, mulberry32(3), 20000);
  const expected = (4 * 0.1) / (4 * 0.1 + 0.9);
  const share = positiveShare(order);
  assert.ok(Math.abs(share - expected) < 0.02, `tumour share ${share}, expected ${expected}`);
});

test('tumour-only visits each tumour slice once and nothing else', () => {
  const order = epochIndices(POSITIVE, { kind: 'tumour-only' }, mulberry32(4));
  assert.equal(order.length, 100);
  assert.equal(new Set(order).size, 100);
  assert.equal(positiveShare(order), 1);
  assert.throws(() => epochIndices([false, false], { kind: 'tumour-only' }, mulberry32(1)), RangeError);
});
