// Training on channels-last weights and activations (prepareForTraining, the default layout of every training
// run): the layout carries through each network, gradients on channels-last tensors match finite differences,
// oneDNN's float32 gradients match float64 ones, the optimiser state follows the weights' layout, and a network
// trains and saves as it does in NCHW. Parity with PyTorch on this path is in parity.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  Adam,
  Conv2d,
  ConvTranspose2d,
  cat,
  F,
  gradCheck,
  loadWeightsInto,
  type Module,
  manualSeed,
  rand,
  randint,
  randn,
  saveModel,
  setNumThreads,
  type Tensor,
  zerosLike,
} from '../../src/engine/index.ts';
import { DENSENET121, DenseNet } from '../../src/models/densenet.ts';
import { ResUNet } from '../../src/models/resunet.ts';
import { prepareForTraining } from '../../src/models/training.ts';
import { UNet } from '../../src/models/unet.ts';
import { assertClose } from '../helpers/assert-close.ts';

setNumThreads(1);

/** A float64 leaf laid out channels-last (NHWC strides; data() still reads it row-major). */
function channelsLastLeaf(shape: number[]): Tensor {
  const t = randn(shape, { dtype: 'float64' }).contiguous('channels_last').requiresGrad_(true);
  assert.ok(t.isChannelsLast);
  return t;
}

function check(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const r = gradCheck(f, inputs, { tolerance: 1e-5 });
  assert.ok(r.ok, `${name}: max error ${r.maxError} (${r.worst})`);
}

/** f on channels-last inputs gives a channels-last output (for shapes where the two layouts differ). */
function assertKeepsLayout(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  assert.equal(f(...inputs).isChannelsLast, true, `${name}: channels-last in, channels-last out`);
}

describe('channels-last: gradients match finite differences (float64)', () => {
  manualSeed(11);
  const x = () => {
    const t = channelsLastLeaf([2, 3, 6, 6]);
    assert.equal(
      t.contiguous().isChannelsLast,
      false,
      'the inputs are laid out differently in the two layouts',
    );
    return t;
  };
  const upconv = new ConvTranspose2d(3, 2, 2, { stride: 2 }).to('float64').toChannelsLast();
  const ops: Array<[string, (...xs: Tensor[]) => Tensor, () => Tensor[]]> = [
    [
      'conv2d stride 2 padding 1, channels-last weight',
      (a, w, b) => F.conv2d(a!, w!, b, { stride: 2, padding: 1 }),
      () => [x(), channelsLastLeaf([4, 3, 3, 3]), randn([4], { dtype: 'float64' }).requiresGrad_(true)],
    ],
    ['conv2d 1×1', (a, w) => F.conv2d(a!, w!), () => [x(), channelsLastLeaf([5, 3, 1, 1])]],
    [
      'ConvTranspose2d 2×2 stride 2 (channels-last weight and output)',
      (a) => upconv.forward(a!),
      () => [x(), upconv.weight, upconv.bias!],
    ],
    [
      'batch norm in training mode',
      (a, w, b) => F.batchNorm(a!, { weight: w, bias: b, training: true }),
      () => [
        x(),
        randn([3], { dtype: 'float64' }).requiresGrad_(true),
        randn([3], { dtype: 'float64' }).requiresGrad_(true),
      ],
    ],
    ['relu', (a) => F.relu(a!), () => [x()]],
    ['maxPool2d 2', (a) => F.maxPool2d(a!, 2), () => [x()]],
    ['maxPool2d 3/2/1', (a) => F.maxPool2d(a!, 3, { stride: 2, padding: 1 }), () => [x()]],
    ['avgPool2d 2', (a) => F.avgPool2d(a!, 2), () => [x()]],
    ['interpolate nearest ×2', (a) => F.interpolate(a!, { scaleFactor: 2 }), () => [x()]],
    ['cat along channels', (a, b) => cat([a!, b!], 1), () => [x(), x()]],
    ['sum of two branches', (a, b) => a!.add(b!), () => [x(), x()]],
  ];
  for (const [name, f, inputs] of ops) {
    it(name, () => {
      check(name, f, inputs());
      assertKeepsLayout(name, f, inputs());
    });
  }

  it('adaptiveAvgPool2d to 1×1', () => check('adaptiveAvgPool2d', (a) => F.adaptiveAvgPool2d(a!, 1), [x()]));
});

describe("channels-last float32 (oneDNN's kernels) against float64 gradients", () => {
  // Batch 16: at::conv2d sends every one of these convolutions to oneDNN, whatever the thread count.
  const convs: Array<[string, number, number, number, F.ConvOptions]> = [
    ['1×1', 24, 16, 1, {}],
    ['3×3 padding 1', 16, 8, 3, { padding: 1 }],
    ['7×7 stride 2 padding 3 (a stem)', 3, 8, 7, { stride: 2, padding: 3 }],
    ['3×3 stride 2', 8, 8, 3, { stride: 2 }],
  ];
  for (const [name, cin, cout, k, o] of convs) {
    it(`conv2d ${name}: input, weight and bias gradients`, () => {
      manualSeed(5);
      const x64 = randn([16, cin, 12, 12], { dtype: 'float64' });
      const w64 = randn([cout, cin, k, k], { dtype: 'float64' }).mul(0.2);
      const b64 = randn([cout], { dtype: 'float64' });
      const probe = randn(F.conv2d(x64, w64, b64, o).shape, { dtype: 'float64' });
      const gradients = (dtype: 'float32' | 'float64', layout: 'channels_last' | 'contiguous') => {
        const leaves = [x64, w64].map((t) => t.to(dtype).contiguous(layout).requiresGrad_(true));
        const b = b64.to(dtype).requiresGrad_(true);
        const y = F.conv2d(leaves[0]!, leaves[1]!, b, o);
        y.mul(probe.to(dtype)).sum().backward();
        return { y, grads: [leaves[0]!.grad!, leaves[1]!.grad!, b.grad!] };
      };
      const fast = gradients('float32', 'channels_last');
      assert.equal(fast.y.isChannelsLast, true);
      const reference = gradients('float64', 'contiguous');
      ['input', 'weight', 'bias'].forEach((what, i) => {
        const expected = reference.grads[i]!;
        const scale = expected.abs().amax().item();
        assertClose(fast.grads[i]!, expected, { rtol: 1e-4, atol: 1e-5 * scale, what });
      });
    });
  }
});

describe('optimiser state follows the weights’ layout', () => {
  it('zerosLike keeps channels-last; an Adam step on channels-last weights equals the NCHW one', () => {
    manualSeed(6);
    const w = randn([8, 4, 3, 3]);
    const grad = randn([8, 4, 3, 3]);
    assert.equal(zerosLike(w.contiguous('channels_last')).isChannelsLast, true);
    assert.equal(zerosLike(w).isChannelsLast, false);
    const step = (layout: 'channels_last' | 'contiguous') => {
      const p = w.contiguous(layout).requiresGrad_(true);
      p.backward(grad.contiguous(layout));
      const adam = new Adam([p], { lr: 1e-2, weightDecay: 1e-4 });
      adam.step();
      adam.step();
      assert.equal(p.isChannelsLast, layout === 'channels_last');
      return p;
    };
    assertClose(step('channels_last'), step('contiguous'), { rtol: 1e-6, atol: 1e-8 });
  });
});

/** Records, during one forward, whether each convolution's input (other than the network's own) is channels-last. */
function convolutionInputLayouts(net: Module, x: Tensor): boolean[] {
  const layouts: boolean[] = [];
  for (const [, m] of net.namedModules()) {
    if (!(m instanceof Conv2d || m instanceof ConvTranspose2d)) continue;
    const forward = m.forward.bind(m);
    m.forward = (input: Tensor) => {
      if (input !== x) layouts.push(input.isChannelsLast);
      return forward(input);
    };
  }
  net.forward(x);
  return layouts;
}

const NETWORKS: Array<[string, () => Module, (out: Tensor, n: number) => Tensor]> = [
  [
    'DenseNet',
    () => new DenseNet({ ...DENSENET121, growthRate: 4, blockConfig: [2, 2], numInitFeatures: 8, bnSize: 2 }),
    (out, n) => F.crossEntropy(out, randint(0, 2, [n])),
  ],
  [
    'ResUNet',
    () => new ResUNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 }),
    (out) => F.bceWithLogits(out, rand(out.shape).gt(0.7).to(out.dtype)),
  ],
  [
    'U-Net',
    () => new UNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 }),
    (out) => F.bceWithLogits(out, rand(out.shape).gt(0.7).to(out.dtype)),
  ],
];

describe('prepareForTraining: networks train channels-last end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tumorscope-layout-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, build, loss] of NETWORKS) {
    // In float64, so that the two layouts' kernels agree to 1e-12 and the comparison sees layout mistakes only
    // (float32 rounding can flip a ReLU at zero and move a gradient by far more; oneDNN's float32 kernels are
    // checked per op above and against PyTorch in parity.test.ts).
    it(`${name}: every convolution sees channels-last activations; loss and gradients as in NCHW`, () => {
      manualSeed(8);
      const reference = build().to('float64');
      const fast = build().to('float64');
      fast.loadStateDict(reference.stateDict());
      assert.equal(prepareForTraining(fast, 'channels-last'), fast);
      const weights = fast.parameters().filter((p) => p.ndim === 4);
      assert.ok(weights.length > 0 && weights.every((p) => p.isChannelsLast));
      const nchw = prepareForTraining(build(), 'nchw');
      assert.ok(nchw.parameters().every((p) => p.ndim !== 4 || p.shape[2] === 1 || !p.isChannelsLast));
      const x = rand([4, 3, 32, 32], { dtype: 'float64' });
      const layouts = convolutionInputLayouts(fast, x);
      assert.ok(layouts.length > 0 && layouts.every(Boolean), `convolution inputs channels-last: ${layouts}`);

      const losses = [reference, fast].map((net) => {
        manualSeed(9); // the same random targets for both
        const l = loss(net.forward(x), 4);
        l.backward();
        return l;
      });
      assertClose(losses[1]!, losses[0]!, { rtol: 1e-12, atol: 0, what: 'loss' });
      const expected = new Map(reference.namedParameters());
      for (const [key, p] of fast.namedParameters()) {
        assert.equal(p.grad!.isChannelsLast || p.ndim !== 4, true, `grad of ${key} channels-last`);
        // 1e-12 absolute: a bias followed by batch norm has a gradient of zero plus rounding noise.
        assertClose(p.grad!, expected.get(key)!.grad!, { rtol: 1e-9, atol: 1e-12, what: `grad of ${key}` });
      }

      // Saved weights are row-major whatever the layout: an NCHW network loads them unchanged.
      saveModel(join(dir, name), fast, { kind: 'test' });
      const loaded = build().to('float64');
      loadWeightsInto(join(dir, name), loaded);
      for (const [key, t] of loaded.stateDict())
        assert.deepEqual(t.data(), fast.stateDict().get(key)!.data(), `${key} after saving and loading`);
    });
  }
});
