// Test-time augmentation by flips, with a model whose output is not flip-equivariant (it adds a fixed,
// asymmetric ramp over the pixel grid): forgetting to flip an output back, or flipping the wrong axis, moves the
// ramp and changes the average.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { F, Module, manualSeed, noGrad, ones, randn, type Tensor, tensor } from '../../src/engine/index.ts';
import { ResUNet } from '../../src/models/resunet.ts';
import { predictProbabilities, predictWithFlipTTA } from '../../src/postprocess/index.ts';
import { assertClose } from '../helpers/assert-close.ts';

const [N, C, H, W] = [2, 3, 3, 5]; // H ≠ W: exchanging the two flips changes the result
const ramp = (y: number, x: number) => 0.6 * y - 0.4 * x + 0.15 * x * y;
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** logits = scale · channel 0 + ramp(y, x); remembers the tensors it saw and made. */
class RampModel extends Module {
  readonly seen: Tensor[] = [];
  readonly scale: Tensor;
  readonly ramp: Tensor;
  constructor(withRamp = true) {
    super();
    this.scale = this.registerParameter('scale', ones([1])); // a parameter: gradients must not be recorded
    const values = Float32Array.from({ length: H * W }, (_, i) =>
      withRamp ? ramp(Math.floor(i / W), i % W) : 0,
    );
    this.ramp = this.registerBuffer('ramp', tensor(values, [1, 1, H, W]));
  }
  forward(x: Tensor): Tensor {
    const out = x.narrow(1, 0, 1).mul(this.scale).add(this.ramp);
    this.seen.push(x, out);
    return out;
  }
}

const imageValues = Float32Array.from({ length: N * C * H * W }, (_, i) => Math.sin(i * 1.7) * 2);
const channel0 = (n: number, y: number, x: number) => imageValues[((n * C + 0) * H + y) * W + x]!;

/** The mean over the four flips of sigmoid(x0 + ramp seen through the flip), computed by hand. */
function expectedTTA(): Float32Array {
  const out = new Float32Array(N * H * W);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        let sum = 0;
        for (const [fy, fx] of [
          [false, false],
          [false, true],
          [true, false],
          [true, true],
        ])
          sum += sigmoid(channel0(n, y, x) + ramp(fy ? H - 1 - y : y, fx ? W - 1 - x : x));
        out[(n * H + y) * W + x] = sum / 4;
      }
  return out;
}

/** The same without flipping the outputs back: what a missing flip-back would give. */
function withoutFlipBack(): Float32Array {
  const out = new Float32Array(N * H * W);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        let sum = 0;
        for (const [fy, fx] of [
          [false, false],
          [false, true],
          [true, false],
          [true, true],
        ])
          sum += sigmoid(channel0(n, fy ? H - 1 - y : y, fx ? W - 1 - x : x) + ramp(y, x));
        out[(n * H + y) * W + x] = sum / 4;
      }
  return out;
}

describe('predictWithFlipTTA', () => {
  it('averages sigmoid(model(flip(x))) flipped back, over identity, horizontal, vertical and both', () => {
    const model = new RampModel();
    const images = tensor(imageValues, [N, C, H, W]);
    const probs = predictWithFlipTTA(model, images);
    assert.deepEqual(probs.shape, [N, 1, H, W]);
    const expected = expectedTTA();
    assertClose(probs, expected, { rtol: 1e-5, atol: 1e-6, what: 'TTA probabilities' });
    // The test has the power to see a missing flip-back: that answer is far from the right one.
    const wrong = withoutFlipBack();
    const gap = Math.max(...expected.map((v, i) => Math.abs(v - wrong[i]!)));
    assert.ok(gap > 0.05, `a missing flip-back would differ by only ${gap}`);
  });

  it('records no gradients, puts the model in eval mode, frees its intermediates, leaves the input alone', () => {
    const model = new RampModel();
    model.train();
    const images = tensor(imageValues, [N, C, H, W]);
    const probs = predictWithFlipTTA(model, images);
    assert.equal(probs.requiresGrad, false);
    assert.equal(model.training, false);
    assert.equal(model.seen.length, 8); // four forward passes
    const intermediates = model.seen.filter((t) => t !== images);
    assert.equal(intermediates.length, 7);
    assert.ok(
      intermediates.every((t) => t.isDisposed),
      'flipped inputs and logits are disposed',
    );
    assert.equal(images.isDisposed, false);
    assert.deepEqual(images.toFloat32(), imageValues);
  });

  it('for a flip-equivariant model equals the plain prediction', () => {
    const model = new RampModel(false);
    const images = tensor(imageValues, [N, C, H, W]);
    const plain = predictProbabilities(model, images, 'none');
    assertClose(predictWithFlipTTA(model, images), plain, { rtol: 1e-6, atol: 1e-7 });
  });

  it("predictProbabilities: 'none' is one plain pass, 'flips' is the TTA", () => {
    const images = tensor(imageValues, [N, C, H, W]);
    const none = new RampModel();
    const plain = predictProbabilities(none, images, 'none');
    assert.equal(none.seen.length, 2);
    const expectedPlain = new Float32Array(N * H * W);
    for (let n = 0; n < N; n++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          expectedPlain[(n * H + y) * W + x] = sigmoid(channel0(n, y, x) + ramp(y, x));
    assertClose(plain, expectedPlain, { rtol: 1e-5, atol: 1e-6 });
    assertClose(predictProbabilities(new RampModel(), images, 'flips'), expectedTTA(), {
      rtol: 1e-5,
      atol: 1e-6,
    });
  });

  it('rejects inputs that are not [N, C, H, W] and models whose output is not [N, 1, H, W]', () => {
    assert.throws(() => predictWithFlipTTA(new RampModel(), tensor(imageValues, [N * C, H, W])), RangeError);
    class Shrinking extends Module {
      forward(x: Tensor): Tensor {
        return x.narrow(1, 0, 1).narrow(3, 0, W - 1);
      }
    }
    assert.throws(
      () => predictWithFlipTTA(new Shrinking(), tensor(imageValues, [N, C, H, W])),
      /flips cannot be undone/,
    );
  });

  it("runs the real ResUNet (which frees its activations as it goes) without touching the caller's batch", () => {
    manualSeed(3);
    const model = new ResUNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 });
    const images = randn([2, 3, 8, 12]);
    const probs = predictWithFlipTTA(model, images);
    assert.deepEqual(probs.shape, [2, 1, 8, 12]);
    assert.equal(images.isDisposed, false);
    // The same mean written out with one forward pass per flip.
    const byHand = noGrad(() =>
      [[], [3], [2], [2, 3]]
        .map((dims) => {
          const p = F.sigmoid(model.forward(dims.length ? images.flip(...dims) : images));
          return dims.length ? p.flip(...dims) : p;
        })
        .reduce((a, b) => a.add(b))
        .div(4),
    );
    assertClose(probs, byHand, { rtol: 1e-5, atol: 1e-6 });
  });
});
