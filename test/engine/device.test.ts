// Devices are parameters, never hard-coded. This machine's libtorch is CPU-only: CUDA requests must fail with a
// clear error (not crash), and run for real where libtorch has CUDA.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildInfo,
  Conv2d,
  cuda,
  defaultDevice,
  getNumThreads,
  ones,
  setNumThreads,
} from '../../src/engine/index.ts';

describe('devices', () => {
  it('creates tensors and modules on the CPU device by parameter', () => {
    assert.equal(ones([2], { device: 'cpu' }).device, 'cpu');
    const conv = new Conv2d(1, 1, 1, { device: 'cpu' });
    assert.equal(conv.weight.device, 'cpu');
    assert.equal(defaultDevice(), cuda.isAvailable() ? 'cuda' : 'cpu');
  });

  it('CUDA: a clear error without a CUDA build, a real move with one', () => {
    if (!cuda.isAvailable()) {
      assert.equal(cuda.deviceCount(), 0);
      assert.throws(
        () => ones([2], { device: 'cuda' }),
        (e: Error) => e instanceof Error && /CUDA/i.test(e.message),
      );
      assert.throws(() => new Conv2d(1, 1, 1).to('cuda'), /CUDA/i);
      return;
    }
    const conv = new Conv2d(1, 1, 1).to('cuda');
    assert.match(conv.weight.device, /^cuda/);
    assert.deepEqual(conv.forward(ones([1, 1, 2, 2], { device: 'cuda' })).to('cpu').shape, [1, 1, 2, 2]);
  });

  it('sets the intra-op thread count and rejects nonsense', () => {
    const before = getNumThreads();
    setNumThreads(1);
    assert.equal(getNumThreads(), 1);
    setNumThreads(before);
    assert.throws(() => setNumThreads(0), RangeError);
    assert.match(buildInfo().version, /^\d+\.\d+/);
  });
});
