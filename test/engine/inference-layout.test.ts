// Inference-only speed-ups in the engine: channels-last layout (Tensor.contiguous('channels_last'),
// Module.toChannelsLast) and batch norm folded into the convolution before it (Conv2d.fuseBatchNorm, the models'
// foldBatchNorms). Each must leave the outputs unchanged to float rounding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BatchNorm2d,
  Conv2d,
  type Module,
  manualSeed,
  noGrad,
  rand,
  setNumThreads,
  type Tensor,
} from '../../src/engine/index.ts';
import { DenseNet } from '../../src/models/densenet.ts';
import { optimizeForInference } from '../../src/models/optimize-for-inference.ts';
import { ResUNet } from '../../src/models/resunet.ts';
import { UNet } from '../../src/models/unet.ts';
import { assertClose } from '../helpers/assert-close.ts';
import { randomiseBatchNorm } from '../helpers/batch-norm.ts';

setNumThreads(1);

type ConvOpts = ConstructorParameters<typeof Conv2d>[3];

const evalForward = (m: Module, x: Tensor) => noGrad(() => m.forward(x));

describe('channels-last layout', () => {
  it('keeps the values and reads back row-major', () => {
    const x = rand([2, 3, 4, 5]);
    const cl = x.contiguous('channels_last');
    assert.equal(x.isChannelsLast, false);
    assert.equal(cl.isChannelsLast, true);
    assert.deepEqual(cl.shape, [2, 3, 4, 5]);
    assert.deepEqual(cl.data(), x.data());
    assert.equal(cl.contiguous().isChannelsLast, false);
  });

  it('Module.toChannelsLast: convolutions return channels-last activations with the same values', () => {
    manualSeed(0);
    const conv = new Conv2d(3, 8, 3, { padding: 1 });
    const x = rand([2, 3, 9, 9]);
    const before = evalForward(conv, x);
    conv.toChannelsLast();
    assert.equal(conv.weight.isChannelsLast, true);
    const after = evalForward(conv, x);
    assert.equal(after.isChannelsLast, true);
    assertClose(after, before, { atol: 1e-5 });
  });
});

describe('Conv2d.fuseBatchNorm', () => {
  for (const bias of [true, false]) {
    it(`folds an eval-mode batch norm (conv ${bias ? 'with' : 'without'} bias)`, () => {
      manualSeed(1);
      const conv = new Conv2d(4, 6, 3, { padding: 1, bias });
      const bn = new BatchNorm2d(6, { eps: 1e-3 });
      randomiseBatchNorm(bn);
      bn.eval();
      const x = rand([2, 4, 7, 7]);
      const expected = noGrad(() => bn.forward(conv.forward(x)));
      conv.fuseBatchNorm(bn);
      assert.ok(conv.bias, 'a bias after folding');
      const y = evalForward(conv, x);
      assert.equal(bn.forward(y), y, 'the folded batch norm passes its input through');
      assertClose(y, expected, { atol: 1e-5 });
      bn.train();
      assert.throws(() => bn.forward(y), /cannot train/);
      assert.throws(() => conv.fuseBatchNorm(bn), /already folded/);
    });
  }
});

describe('Conv2d.useOnednn (oneDNN directly, not at::conv2d)', () => {
  // Non-square stride and padding, so that swapped arguments change the output; 1×1 convolutions at small
  // batches are the ones at::conv2d sends elsewhere (im2col/BLAS) and the reason for this path.
  const cases: Array<[string, number, number, number | [number, number], ConvOpts]> = [
    ['1×1, no bias', 16, 8, 1, { bias: false }],
    ['3×3, padding 1, bias', 8, 6, 3, { padding: 1 }],
    ['3×3, stride [2, 1], padding [1, 0]', 5, 7, 3, { stride: [2, 1], padding: [1, 0] }],
    ['7×7 stride 2 padding 3 (a stem)', 3, 8, 7, { stride: 2, padding: 3, bias: false }],
    ['3×5 kernel, dilation 2', 4, 4, [3, 5], { padding: [2, 4], dilation: 2 }],
  ];
  for (const [name, cin, cout, k, o] of cases) {
    for (const channelsLast of [false, true]) {
      it(`${name}, ${channelsLast ? 'channels-last' : 'NCHW'} weights, batch 1 and 3`, () => {
        manualSeed(3);
        const conv = new Conv2d(cin, cout, k, o);
        conv.eval();
        if (channelsLast) conv.toChannelsLast();
        const inputs = [rand([1, cin, 11, 13]), rand([3, cin, 11, 13])];
        const expected = inputs.map((x) => evalForward(conv, x));
        assert.equal(conv.useOnednn(), conv);
        assert.equal(conv.usesOnednn, true);
        inputs.forEach((x, i) => {
          const y = evalForward(conv, x);
          assert.deepEqual(y.shape, expected[i]!.shape);
          assertClose(y, expected[i]!, { atol: 1e-5, rtol: 1e-5 });
          // A channels-last input gives the same values, and a channels-last output: activations stay NHWC.
          const ycl = evalForward(conv, x.contiguous('channels_last'));
          assertClose(ycl, expected[i]!, { atol: 1e-5, rtol: 1e-5 });
          if (channelsLast) assert.equal(ycl.isChannelsLast, true, 'channels-last in, channels-last out');
        });
      });
    }
  }

  it('refuses to train', () => {
    const conv = new Conv2d(2, 2, 1).useOnednn();
    conv.train();
    assert.throws(() => conv.forward(rand([1, 2, 3, 3])), /cannot train/);
  });
});

describe('models: foldBatchNorms + toChannelsLast give the eval-mode output', () => {
  const cases: Array<[string, () => DenseNet | ResUNet | UNet]> = [
    [
      'DenseNet',
      () =>
        new DenseNet({
          growthRate: 4,
          blockConfig: [2, 2],
          numInitFeatures: 8,
          bnSize: 2,
          dropRate: 0,
          numClasses: 2,
          headDropout: 0.2,
          headHidden: 0,
        }),
    ],
    ['ResUNet', () => new ResUNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 })],
    ['UNet', () => new UNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 })],
  ];
  for (const [name, build] of cases) {
    it(name, () => {
      manualSeed(2);
      const net = build();
      randomiseBatchNorm(net);
      net.eval();
      const x = rand([2, 3, 32, 32]);
      const expected = evalForward(net, x);
      const expected1 = evalForward(net, x.slice(0, 0, 1));
      optimizeForInference(net);
      const folded = [...net.namedModules()].filter(([, m]) => m instanceof BatchNorm2d && m.isFused);
      assert.ok(folded.length > 0);
      const convs = [...net.namedModules()].filter(([, m]) => m instanceof Conv2d) as [string, Conv2d][];
      assert.ok(convs.length > 0 && convs.every(([, c]) => c.usesOnednn), 'every convolution through oneDNN');
      assertClose(evalForward(net, x), expected, { atol: 1e-4, rtol: 1e-4 });
      assertClose(evalForward(net, x.slice(0, 0, 1)), expected1, { atol: 1e-4, rtol: 1e-4 });
    });
  }
});
