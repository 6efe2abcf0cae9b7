// Test-time augmentation by flips (src/postprocess/tta.ts), with a network whose output is not flip-equivariant
// (it adds a fixed, asymmetric ramp over the pixel grid): forgetting to flip an output back, or flipping the
// wrong axis, moves the ramp and changes the average. The same averaging serves libtorch and onnxruntime, so it
// is tested on plain arrays, then once through libtorch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESCALE_256 } from '../../src/data/preprocess.ts';
import { F, Module, manualSeed, noGrad, ones, randn, type Tensor, tensor } from '../../src/engine/index.ts';
import { libtorchNetwork } from '../../src/inference/network-outputs.ts';
import { ResUNet } from '../../src/models/resunet.ts';
import { flipPlanes, probabilitiesWithTta, probabilitiesWithTtaSync } from '../../src/postprocess/index.ts';
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

/** The same network on plain arrays, answering at once: sigmoid(channel 0 + ramp). */
function rampNetworkSync(withRamp = true) {
  return (input: Float32Array, n: number) => {
    const out = new Float32Array(n * H * W);
    for (let k = 0; k < n; k++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          out[(k * H + y) * W + x] = sigmoid(
            input[((k * C + 0) * H + y) * W + x]! + (withRamp ? ramp(y, x) : 0),
          );
    return out;
  };
}

/** The same network on plain arrays: sigmoid(channel 0 + ramp), counting its passes. */
function rampNetwork(withRamp = true) {
  const passes: number[] = [];
  const network = rampNetworkSync(withRamp);
  const run = async (input: Float32Array, n: number) => {
    passes.push(n);
    return network(input, n);
  };
  return { run, passes };
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

describe('flip TTA', () => {
  it('flips planes, each flip its own inverse', () => {
    const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    assert.deepEqual([...flipPlanes(data, 3, 4, true, false).subarray(0, 4)], [3, 2, 1, 0]);
    assert.deepEqual([...flipPlanes(data, 3, 4, false, true).subarray(0, 4)], [8, 9, 10, 11]);
    for (const [h, v] of [
      [true, false],
      [false, true],
      [true, true],
    ] as const)
      assert.deepEqual(flipPlanes(flipPlanes(data, 3, 4, h, v), 3, 4, h, v), data);
  });

  it('averages the network on each flip, flipped back, over identity, horizontal, vertical and both', async () => {
    const { run, passes } = rampNetwork();
    const input = Float32Array.from(imageValues);
    const probs = await probabilitiesWithTta(run, input, N, H, W, 'flips');
    const expected = expectedTTA();
    assertClose(probs, expected, { rtol: 1e-5, atol: 1e-6, what: 'TTA probabilities' });
    assert.deepEqual(passes, [N, N, N, N]);
    assert.deepEqual(input, imageValues, 'the input is left alone');
    // Training's synchronous path averages the same way, to the bit.
    const sync = rampNetworkSync();
    assert.deepEqual(probabilitiesWithTtaSync(sync, input, N, H, W, 'flips'), probs);
    // The test has the power to see a missing flip-back: that answer is far from the right one.
    const wrong = withoutFlipBack();
    const gap = Math.max(...expected.map((v, i) => Math.abs(v - wrong[i]!)));
    assert.ok(gap > 0.05, `a missing flip-back would differ by only ${gap}`);
  });

  it("'none' is one plain pass; for a flip-equivariant network 'flips' gives the same", async () => {
    const { run, passes } = rampNetwork();
    const plain = await probabilitiesWithTta(run, imageValues, N, H, W, 'none');
    assert.deepEqual(passes, [N]);
    const expectedPlain = new Float32Array(N * H * W);
    for (let n = 0; n < N; n++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          expectedPlain[(n * H + y) * W + x] = sigmoid(channel0(n, y, x) + ramp(y, x));
    assertClose(plain, expectedPlain, { rtol: 1e-5, atol: 1e-6 });
    const flat = rampNetwork(false).run;
    assertClose(
      await probabilitiesWithTta(flat, imageValues, N, H, W, 'flips'),
      await probabilitiesWithTta(flat, imageValues, N, H, W, 'none'),
      { rtol: 1e-6, atol: 1e-7 },
    );
  });

  it('rejects a network whose output is not one H×W map per slice', async () => {
    const shrinking = async (_: Float32Array, n: number) => new Float32Array(n * H * (W - 1));
    await assert.rejects(
      probabilitiesWithTta(shrinking, imageValues, N, H, W, 'flips'),
      /flips cannot be undone/,
    );
  });
});

describe('flip TTA through libtorch', () => {
  it('runs the network in eval mode, records no gradients and frees its intermediates', async () => {
    const model = new RampModel();
    model.train();
    const run = libtorchNetwork(model, 'segmenter', { ...RESCALE_256, width: W, height: H });
    const probs = await probabilitiesWithTta(run, imageValues, N, H, W, 'flips');
    assert.equal(model.training, false);
    assertClose(probs, expectedTTA(), { rtol: 1e-5, atol: 1e-6 });
    assert.equal(model.seen.length, 8); // four forward passes
    assert.ok(
      model.seen.every((t) => t.isDisposed),
      'inputs and logits are disposed',
    );
    assert.equal(model.scale.requiresGrad, true);
  });

  it('equals the mean over tensor flips written out by hand, on the real ResUNet', async () => {
    manualSeed(3);
    const model = new ResUNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 });
    const images = randn([2, 3, 8, 12]);
    const run = libtorchNetwork(model, 'segmenter', { ...RESCALE_256, width: 12, height: 8 });
    const probs = await probabilitiesWithTta(run, images.toFloat32(), 2, 8, 12, 'flips');
    const byHand = noGrad(() =>
      [[], [3], [2], [2, 3]]
        .map((dims) => {
          const p = F.sigmoid(model.forward(dims.length ? images.flip(...dims) : images));
          return dims.length ? p.flip(...dims) : p;
        })
        .reduce((a, b) => a.add(b))
        .div(4),
    );
    assertClose(byHand, probs, { rtol: 1e-5, atol: 1e-6 });
  });
});
