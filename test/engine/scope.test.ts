import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dispose, keep, ones, scopeDepth, type Tensor, tidy } from '../../src/engine/index.ts';

describe('tidy scopes', () => {
  it('disposes what the function made except what it returns', () => {
    let inner: Tensor | undefined;
    const result = tidy(() => {
      inner = ones([4]).mul(2);
      return inner.add(1);
    });
    assert.equal(inner!.isDisposed, true);
    assert.equal(result.isDisposed, false);
    assert.deepEqual([...result.toFloat32()], [3, 3, 3, 3]);
    assert.equal(scopeDepth(), 0);
  });

  it('keeps tensors returned inside arrays and objects, and hands them to the parent scope', () => {
    let escaped: { a: Tensor; list: Tensor[] } | undefined;
    tidy(() => {
      escaped = tidy(() => ({ a: ones([1]), list: [ones([2]), ones([3])] }));
      assert.equal(escaped.a.isDisposed, false);
      assert.equal(escaped.list[1]!.isDisposed, false);
    });
    assert.equal(escaped!.a.isDisposed, true, 'the outer scope owns what the inner one returned');
    assert.equal(escaped!.list[0]!.isDisposed, true);
  });

  it('never disposes kept tensors or tensors made outside', () => {
    const outside = ones([2]);
    let kept: Tensor | undefined;
    tidy(() => {
      kept = keep(outside.add(1));
      outside.mul(3);
    });
    assert.equal(outside.isDisposed, false);
    assert.equal(kept!.isDisposed, false);
  });

  it('frees its tensors when the function throws, and refuses async functions', () => {
    let made: Tensor | undefined;
    assert.throws(() =>
      tidy(() => {
        made = ones([2]);
        throw new Error('boom');
      }),
    );
    assert.equal(made!.isDisposed, true, 'a throwing scope frees what it made');
    assert.equal(scopeDepth(), 0);
    assert.throws(() => tidy(async () => 1 as never), /synchronous/);
  });

  it('dispose() frees tensors found in nested values, idempotently', () => {
    const value = { x: ones([1]), ys: [ones([1]), ones([1])] };
    dispose(value);
    dispose(value);
    assert.ok(value.x.isDisposed && value.ys.every((t) => t.isDisposed));
  });
});
