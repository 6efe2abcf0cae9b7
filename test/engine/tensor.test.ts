import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arange, cat, full, ones, stack, type Tensor, tensor, where, zeros } from '../../src/engine/index.ts';

describe('Tensor: typed arrays in and out', () => {
  it('round-trips every supported typed array with its dtype and shape', () => {
    const cases = [
      new Float32Array([1.5, -2, 3, 4, 5, 6]),
      new Float64Array([1e-300, 2, 3, 4, 5, 6]),
      new Int32Array([1, -2, 3, 4, 5, 2 ** 31 - 1]),
      new BigInt64Array([1n, -2n, 3n, 4n, 5n, 2n ** 60n]),
      new Uint8Array([0, 1, 2, 3, 254, 255]),
      new Int16Array([-32768, 1, 2, 3, 4, 32767]),
      new Int8Array([-128, 1, 2, 3, 4, 127]),
    ];
    for (const data of cases) {
      const t = tensor(data, [2, 3]);
      assert.deepEqual(t.shape, [2, 3]);
      assert.deepEqual(t.data(), data, `${data.constructor.name}`);
    }
  });

  it('copies on the way in: later writes to the array do not reach the tensor', () => {
    const data = new Float32Array([1, 2, 3]);
    const t = tensor(data);
    data[0] = 99;
    assert.deepEqual([...t.toFloat32()], [1, 2, 3]);
  });

  it('reads a subarray view at its own offset', () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 9]);
    assert.deepEqual([...tensor(backing.subarray(2, 5)).toFloat32()], [1, 2, 3]);
  });

  it('refuses data that does not fill the shape', () => {
    assert.throws(() => tensor(new Float32Array(5), [2, 3]), /20 bytes of data for shape of 24 bytes/);
  });

  it('converts dtype on request and keeps integer arithmetic integer', () => {
    const t = tensor(new Int32Array([1, 2, 3]), [3], { dtype: 'float64' });
    assert.equal(t.dtype, 'float64');
    const i = tensor(new BigInt64Array([5n, 7n]));
    assert.equal(i.add(1).dtype, 'int64');
    assert.deepEqual(i.mul(2).data(), new BigInt64Array([10n, 14n]));
    assert.equal(i.div(2).dtype, 'float32'); // true division, as PyTorch
  });
});

describe('Tensor: arithmetic, comparisons, reductions', () => {
  const a = () => tensor([1, 2, 3, 4, 5, 6], [2, 3]);

  it('broadcasts elementwise ops with tensors and numbers', () => {
    const row = tensor([10, 20, 30], [1, 3]);
    assert.deepEqual([...a().add(row).toFloat32()], [11, 22, 33, 14, 25, 36]);
    assert.deepEqual([...a().sub(1).mul(2).div(4).toFloat32()], [0, 0.5, 1, 1.5, 2, 2.5]);
    assert.deepEqual([...a().pow(2).sqrt().toFloat32()], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...a().neg().abs().toFloat32()], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...a().clamp(2, 4).toFloat32()], [2, 2, 3, 4, 4, 4]);
  });

  it('reduces over all or chosen dimensions', () => {
    assert.equal(a().sum().item(), 21);
    assert.deepEqual([...a().sum(0).toFloat32()], [5, 7, 9]);
    assert.deepEqual(a().sum(1, true).shape, [2, 1]);
    assert.deepEqual([...a().mean(1).toFloat32()], [2, 5]);
    assert.deepEqual([...a().amax(0).toFloat32()], [4, 5, 6]);
    assert.deepEqual([...a().amin(1).toFloat32()], [1, 4]);
    assert.deepEqual(a().argmax(1).data(), new BigInt64Array([2n, 2n]));
    assert.ok(Math.abs(a().var().item() - 3.5) < 1e-6);
    assert.ok(Math.abs(a().std(undefined, { unbiased: false }).item() - Math.sqrt(35 / 12)) < 1e-6);
    assert.deepEqual([...a().cumsum(1).toFloat32()], [1, 3, 6, 4, 9, 15]);
  });

  it('keeps every dimension as size 1 when asked to, reducing over all of them', () => {
    const all = (t: Tensor) => [t.shape, [...t.toFloat32()]];
    assert.deepEqual(all(a().sum(undefined, true)), [[1, 1], [21]]);
    assert.deepEqual(all(a().mean(undefined, true)), [[1, 1], [3.5]]);
    assert.deepEqual(all(a().amax(undefined, true)), [[1, 1], [6]]);
    assert.deepEqual(all(a().amin(undefined, true)), [[1, 1], [1]]);
    assert.deepEqual(a().var(undefined, { keepdim: true }).shape, [1, 1]);
    assert.deepEqual(a().sum().shape, [], 'without keepdim: a scalar');
  });

  it('compares into bool tensors that select and mask', () => {
    const m = a().gt(3);
    assert.equal(m.dtype, 'bool');
    assert.deepEqual([...m.data()], [0, 0, 0, 1, 1, 1]);
    assert.deepEqual([...a().maskedSelect(m).toFloat32()], [4, 5, 6]);
    assert.deepEqual([...a().maskedFill(m, 0).toFloat32()], [1, 2, 3, 0, 0, 0]);
    assert.deepEqual([...where(m, a(), -1).toFloat32()], [-1, -1, -1, 4, 5, 6]);
    assert.deepEqual([...a().eq(2).logicalOr(a().eq(5)).data()], [0, 1, 0, 0, 1, 0]);
  });
});

describe('Tensor: shape and indexing', () => {
  it('reshapes, permutes and transposes', () => {
    const t = arange(24, undefined, 1, { dtype: 'float32' }).reshape(2, 3, 4);
    assert.deepEqual(t.permute(2, 0, 1).shape, [4, 2, 3]);
    assert.equal(t.transpose(0, 2).isContiguous, false);
    assert.equal(t.transpose(0, 2).contiguous().isContiguous, true);
    assert.deepEqual([...t.permute(2, 0, 1).contiguous().toFloat32().slice(0, 4)], [0, 4, 8, 12]); // new[i,j,k] = old[j,k,i]
    assert.deepEqual(t.flatten(1).shape, [2, 12]);
    assert.deepEqual(t.unsqueeze(0).squeeze(0).shape, [2, 3, 4]);
  });

  it('slices as views and selects rows', () => {
    const t = arange(10, undefined, 1, { dtype: 'float32' });
    assert.deepEqual([...t.slice(0, 2, 8, 2).toFloat32()], [2, 4, 6]);
    assert.deepEqual([...t.slice(0, -3).toFloat32()], [7, 8, 9]);
    const m = t.reshape(2, 5);
    assert.deepEqual([...m.select(0, 1).toFloat32()], [5, 6, 7, 8, 9]);
    assert.deepEqual([...m.narrow(1, 1, 2).contiguous().toFloat32()], [1, 2, 6, 7]);
    assert.deepEqual([...m.indexSelect(1, tensor(new BigInt64Array([4n, 0n]))).toFloat32()], [4, 0, 9, 5]);
    const view = m.select(0, 0);
    view.fill_(-1); // a view writes through
    assert.deepEqual([...t.slice(0, 0, 5).toFloat32()], [-1, -1, -1, -1, -1]);
  });

  it('flips, rotates, concatenates and stacks', () => {
    const t = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    assert.deepEqual([...t.flip(-1).toFloat32()], [2, 1, 4, 3]);
    assert.deepEqual([...t.rot90(1).contiguous().toFloat32()], [2, 4, 1, 3]);
    assert.deepEqual(cat([t, t], 1).shape, [1, 2, 2, 2]);
    assert.deepEqual(stack([ones([2]), zeros([2])], 0).shape, [2, 2]);
    assert.deepEqual([...full([2], 7).toFloat32()], [7, 7]);
  });
});

describe('Tensor: errors become JavaScript errors with libtorch messages', () => {
  it('shape mismatch', () => {
    assert.throws(
      () => ones([2, 3]).matmul(ones([2, 3])),
      (e: Error) => e instanceof Error && /mat1 and mat2 shapes cannot be multiplied/.test(e.message),
    );
  });
  it('bad dtype for an op', () => {
    assert.throws(
      () =>
        tensor(new Int32Array([1, 2]))
          .sqrt()
          .logicalAnd(ones([3])),
      /size of tensor a/,
    );
    assert.throws(() => ones([2]).to('complex12' as never), /unknown dtype|Expected one of|device string/);
  });
  it('use after dispose, and foreign handles', () => {
    const t = ones([2]);
    t.dispose();
    assert.throws(() => t.add(1), /disposed/);
    assert.equal(t.isDisposed, true);
    assert.throws(() => ones([2]).add({} as never), /expected a tensor handle/);
  });
  it('item() of a tensor with several elements', () => {
    assert.throws(() => ones([3]).item(), /3 elements, not 1/);
  });
});
