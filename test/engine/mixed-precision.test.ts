// bf16 mixed precision (autocast, trainingForward): convolutions run in bfloat16 inside the scope and float32
// outside it; the scope ends cleanly when its function throws; each scope casts the weights as they are now (the
// cast cache is dropped on leaving, so an optimiser step is seen by the next forward pass); and the gradients of
// a network's loss are those of float32 to bfloat16's precision. Tolerances are bfloat16's (8 significant bits),
// far above any difference between CPUs' kernels.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  autocast,
  Conv2d,
  F,
  manualSeed,
  noGrad,
  rand,
  setNumThreads,
  type Tensor,
} from '../../src/engine/index.ts';
import { ResUNet } from '../../src/models/resunet.ts';
import { prepareForTraining, trainingForward } from '../../src/models/training.ts';
import { assertClose } from '../helpers/assert-close.ts';

setNumThreads(1);

/** ‖a − b‖ / ‖b‖ over every element. */
function relativeError(a: Tensor, b: Tensor): number {
  const x = a.toFloat32();
  const y = b.toFloat32();
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < x.length; i++) {
    diff += (x[i]! - y[i]!) ** 2;
    norm += y[i]! ** 2;
  }
  return Math.sqrt(diff / norm);
}

describe('autocast (bf16 mixed precision)', () => {
  it('runs convolutions in bfloat16 inside the scope only, also when the scope throws', () => {
    manualSeed(1);
    const conv = new Conv2d(3, 4, 3, { padding: 1 });
    const x = rand([2, 3, 8, 8]);
    assert.equal(autocast(() => conv.forward(x)).dtype, 'bfloat16');
    assert.equal(conv.forward(x).dtype, 'float32', 'float32 again after the scope');
    assert.throws(
      () =>
        autocast(() => {
          throw new Error('inside');
        }),
      /inside/,
    );
    assert.equal(conv.forward(x).dtype, 'float32', 'float32 after a scope that threw');
    assert.equal(
      autocast(() => autocast(() => conv.forward(x)) && conv.forward(x)).dtype,
      'bfloat16',
      'an inner scope leaves the outer one on',
    );
  });

  it('casts the weights as they are now in every scope (an update between scopes is seen)', () => {
    manualSeed(2);
    const conv = new Conv2d(3, 4, 3, { padding: 1 });
    const x = rand([1, 3, 8, 8]);
    const before = autocast(() => conv.forward(x)).float();
    noGrad(() => conv.weight.mul_(-1));
    const after = autocast(() => conv.forward(x)).float();
    const expected = conv.forward(x);
    assert.ok(relativeError(after, before) > 0.5, 'the second scope used the old weights');
    assertClose(after, expected, { rtol: 0.05, atol: 0.03, what: 'bf16 output after the update' });
  });

  it("gives a network's float32 loss and gradients to bfloat16's precision (ResUNet, channels-last)", () => {
    manualSeed(3);
    const net = prepareForTraining(
      new ResUNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 }),
      'channels-last',
    );
    net.train(true);
    const x = rand([8, 3, 64, 64]);
    const target = rand([8, 1, 64, 64]).gt(0.7).float();
    const gradients = (precision: 'fp32' | 'bf16') => {
      for (const p of net.parameters()) p.grad?.zero_();
      const out = trainingForward(net, x, precision);
      assert.equal(out.dtype, 'float32', `${precision}: the output reaches the loss as float32`);
      const loss = F.bceWithLogits(out, target);
      loss.backward();
      return { loss: loss.item(), grads: net.parameters().map((p) => p.grad!.clone()) };
    };
    const full = gradients('fp32');
    const mixed = gradients('bf16');
    assert.ok(Math.abs(mixed.loss - full.loss) < 0.01 * full.loss, `loss ${mixed.loss} vs ${full.loss}`);
    assert.notEqual(mixed.loss, full.loss, 'the forward pass ran in bfloat16');
    assert.ok(
      mixed.grads.every((g) => g.dtype === 'float32'),
      'the weights stay float32, so do their gradients',
    );
    // Per tensor, bfloat16 moves small gradients by 10–40% (and those of biases before batch norm, zero in exact
    // arithmetic, by any factor); PyTorch's autocast does the same. The gradient as a whole keeps its direction.
    const flat = (gs: Tensor[]) => gs.flatMap((g) => Array.from(g.toFloat32()));
    const a = flat(mixed.grads);
    const b = flat(full.grads);
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! ** 2;
      nb += b[i]! ** 2;
    }
    const cosine = dot / Math.sqrt(na * nb);
    assert.ok(cosine > 0.95, `cosine of the bf16 and float32 gradients ${cosine.toFixed(4)}`);
    assert.ok(Math.abs(Math.sqrt(na / nb) - 1) < 0.15, `gradient norm ratio ${Math.sqrt(na / nb)}`);
  });
});
