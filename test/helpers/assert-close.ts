import assert from 'node:assert/strict';
import type { Tensor } from '../../src/engine/index.ts';

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise, naming the worst element when it fails. */
export function assertClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  o: { rtol?: number; atol?: number; what?: string } = {},
): void {
  const a = toNumbers(actual);
  const b = toNumbers(expected);
  assert.equal(a.length, b.length, `${o.what ?? 'tensor'}: ${a.length} elements vs ${b.length}`);
  const rtol = o.rtol ?? 1e-5;
  const atol = o.atol ?? 1e-7;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i]! - b[i]!) - (atol + rtol * Math.abs(b[i]!));
    if (!(excess <= worstExcess)) {
      worstExcess = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
      worst = i;
    }
  }
  assert.ok(
    worst < 0,
    `${o.what ?? 'tensor'}: element ${worst} is ${a[worst]} but expected ${b[worst]} (rtol ${rtol}, atol ${atol})`,
  );
}

function toNumbers(x: Tensor | ArrayLike<number>): ArrayLike<number> {
  if ('toFloat32' in x) return x.dtype === 'float64' ? (x.data() as Float64Array) : x.toFloat32();
  return x;
}
