// Finite-difference checks of the gradients of every op the models and losses use (float64), plus grad-mode
// scopes. libtorch computes the gradients; these tests prove the binding passes arguments where they belong.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  F,
  focalTverskyLoss,
  gradCheck,
  manualSeed,
  noGrad,
  ones,
  rand,
  randn,
  softDiceLoss,
  type Tensor,
  tensor,
} from '../../src/engine/index.ts';

const leaf = (shape: number[], scale = 1) =>
  randn(shape, { dtype: 'float64' }).mul(scale).requiresGrad_(true);

function check(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const r = gradCheck(f, inputs, { tolerance: 1e-5 });
  assert.ok(r.ok, `${name}: max error ${r.maxError} (${r.worst})`);
}

describe('gradients match finite differences', () => {
  manualSeed(7);
  const x = () => leaf([2, 3, 6, 6]);

  it('conv2d with stride, padding, dilation and groups', () => {
    check('conv2d', (a, w, b) => F.conv2d(a!, w!, b, { stride: 2, padding: 1 }), [
      x(),
      leaf([4, 3, 3, 3]),
      leaf([4]),
    ]);
    check(
      'conv2d dilated grouped',
      (a, w) => F.conv2d(a!, w!, null, { dilation: 2, padding: 2, groups: 3 }),
      [leaf([1, 3, 5, 5]), leaf([3, 1, 3, 3])],
    );
  });

  it('conv_transpose2d', () => {
    check('convTranspose2d', (a, w, b) => F.convTranspose2d(a!, w!, b, { stride: 2 }), [
      x(),
      leaf([3, 2, 2, 2]),
      leaf([2]),
    ]);
  });

  it('batch norm in training mode (batch statistics)', () => {
    check('batchNorm', (a, w, b) => F.batchNorm(a!, { weight: w, bias: b, training: true }), [
      x(),
      leaf([3]),
      leaf([3]),
    ]);
  });

  it('linear, activations and softmax', () => {
    check('linear', (a, w, b) => F.linear(a!, w!, b), [leaf([4, 5]), leaf([3, 5]), leaf([3])]);
    check('relu', (a) => F.relu(a!), [leaf([20])]);
    check('leakyRelu', (a) => F.leakyRelu(a!, 0.1), [leaf([20])]);
    check('sigmoid', (a) => F.sigmoid(a!), [leaf([20])]);
    check('tanh', (a) => F.tanh(a!), [leaf([20])]);
    check('softmax', (a) => F.softmax(a!, 1), [leaf([4, 5])]);
    check('logSoftmax', (a) => F.logSoftmax(a!, 1), [leaf([4, 5])]);
  });

  it('pooling and resizing', () => {
    check('maxPool2d', (a) => F.maxPool2d(a!, 2), [x()]);
    check('maxPool2d 3/2/1', (a) => F.maxPool2d(a!, 3, { stride: 2, padding: 1 }), [x()]);
    check('avgPool2d', (a) => F.avgPool2d(a!, 2), [x()]);
    check('adaptiveAvgPool2d', (a) => F.adaptiveAvgPool2d(a!, 1), [x()]);
    check('interpolate bilinear', (a) => F.interpolate(a!, { size: [9, 11], mode: 'bilinear' }), [x()]);
    check('interpolate nearest', (a) => F.interpolate(a!, { scaleFactor: 2 }), [x()]);
    check('pad reflect', (a) => F.pad(a!, [1, 2, 2, 1], 'reflect'), [x()]);
  });

  it('grid sampling (augmentation)', () => {
    const theta = tensor(new Float64Array([0.9, 0.1, 0.05, -0.1, 0.9, 0]), [1, 2, 3]);
    const grid = F.affineGrid(theta, [1, 3, 6, 6]);
    check('gridSample', (a) => F.gridSample(a!, grid), [leaf([1, 3, 6, 6])]);
  });

  it('losses: cross-entropy with class weights, BCE with logits, Dice, focal Tversky', () => {
    const target = tensor(new BigInt64Array([0n, 1n, 1n, 0n]));
    const weight = tensor(new Float64Array([0.3, 0.7]));
    check('crossEntropy', (a) => F.crossEntropy(a!, target, { weight }), [leaf([4, 2])]);
    const mask = rand([2, 1, 4, 4], { dtype: 'float64' }).gt(0.5).to('float64');
    check('bceWithLogits', (a) => F.bceWithLogits(a!, mask), [leaf([2, 1, 4, 4])]);
    check('softDice', (a) => softDiceLoss(F.sigmoid(a!), mask), [leaf([2, 1, 4, 4])]);
    check('focalTversky', (a) => focalTverskyLoss(F.sigmoid(a!), mask), [leaf([2, 1, 4, 4])]);
  });

  it('fails on a wrong gradient: the check itself can fail', () => {
    // detach() hides x from autograd inside the function, so the analytic gradient (zero) is wrong.
    const r = gradCheck((a) => a!.mul(a!.detach()), [leaf([5])]);
    assert.equal(r.ok, false);
  });
});

describe('autograd controls', () => {
  it('accumulates gradients until they are cleared', () => {
    const w = ones([3], { dtype: 'float64' }).requiresGrad_(true);
    w.mul(2).sum().backward();
    w.mul(3).sum().backward();
    assert.deepEqual([...(w.grad!.data() as Float64Array)], [5, 5, 5]);
  });

  it('noGrad records nothing and restores the mode after an error', () => {
    const w = ones([2]).requiresGrad_(true);
    const y = noGrad(() => w.mul(2));
    assert.equal(y.requiresGrad, false);
    assert.throws(() =>
      noGrad(() => {
        throw new Error('x');
      }),
    );
    assert.equal(w.mul(2).requiresGrad, true);
  });

  it('backward of a non-scalar needs a gradient argument', () => {
    const w = ones([2]).requiresGrad_(true);
    assert.throws(() => w.mul(2).backward(), /grad can be implicitly created only for scalar outputs/);
    w.mul(2).backward(tensor([1, 10]));
    assert.deepEqual([...w.grad!.toFloat32()], [2, 20]);
  });
});
