// Parity with PyTorch: the same networks, weights and inputs as scripts/make-parity-fixtures.py, run by PyTorch
// 1.13; forward output, loss, every gradient, batch-norm statistics and one Adam step must match.
//
// The fixtures were recorded on one machine, and another CPU's kernels (or thread split) sum floats in another
// order. So the forward and backward checks allow what reordering needs, and the Adam step is checked from
// PyTorch's own gradients: its first step divides g by |g| + eps, which turns last-bit differences in near-zero
// gradients into large weight differences, while from the same gradients it is elementwise arithmetic that must
// agree to a few ulps. Where this machine's Python runs the addon's very libtorch, the reference is also recomputed
// here and the whole chain, Adam on our own gradients included, must match it that tightly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  Adam,
  AdamW,
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  F,
  Flatten,
  Linear,
  loadSafetensors,
  MaxPool2d,
  type Module,
  ReLU,
  Sequential,
  setNumThreads,
  type Tensor,
} from '../../src/engine/index.ts';
import { DENSENET121, DenseNet } from '../../src/models/densenet.ts';
import { ResUNet } from '../../src/models/resunet.ts';
import { prepareForTraining, type TrainingLayout } from '../../src/models/training.ts';
import { UNet } from '../../src/models/unet.ts';
import { assertClose } from '../helpers/assert-close.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const fixtures = join(repoRoot, 'test', 'fixtures', 'parity');
/** The optimiser the fixture script steps: torch.optim.Adam(lr=1e-2, weight_decay=1e-4). */
const ADAM = { lr: 1e-2, weightDecay: 1e-4 };
/** Same machine and libtorch, or the same elementwise arithmetic: a few ulps (fused multiply-adds or not). */
const ARITHMETIC = { rtol: 1e-6, atol: 1e-8 };

interface Network {
  file: string;
  title: string;
  build: () => Module;
  loss: (out: Tensor, target: Tensor) => Tensor;
}

const NETWORKS: Network[] = [
  {
    file: 'convnet',
    title: 'small conv net',
    build: () =>
      new Sequential(
        new Conv2d(3, 8, 3, { padding: 1 }),
        new BatchNorm2d(8),
        new ReLU(),
        new MaxPool2d(2),
        new Conv2d(8, 16, 3, { padding: 1 }),
        new BatchNorm2d(16),
        new ReLU(),
        new AdaptiveAvgPool2d(1),
        new Flatten(),
        new Linear(16, 2),
      ),
    loss: (out, t) => F.crossEntropy(out, t),
  },
  {
    file: 'unet',
    title: 'small U-Net (Buda et al. layout)',
    build: () => new UNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 }),
    loss: (out, t) => F.bceWithLogits(out, t),
  },
  {
    file: 'resunet',
    title: 'small ResUNet (the reference design)',
    build: () => new ResUNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 }),
    loss: (out, t) => F.bceWithLogits(out, t),
  },
  {
    file: 'densenet',
    title: "small DenseNet (torchvision's code, in-place ReLUs)",
    build: () =>
      new DenseNet({ ...DENSENET121, growthRate: 4, blockConfig: [2, 2], numInitFeatures: 8, bnSize: 2 }),
    loss: (out, t) => F.crossEntropy(out, t),
  },
];

interface Fixture {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
  get: (key: string) => Tensor;
}

function readFixture(path: string): Fixture {
  const { tensors, metadata } = loadSafetensors(path);
  return { tensors, metadata, get: (k) => tensors.get(k) ?? assert.fail(`${path} lacks ${k}`) };
}

function prefixed(all: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  return new Map([...all].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/**
 * Another summation order moves a sum by a few ulps of its largest terms, not of its result: each element may
 * differ by 1e-5 of itself plus 1e-5 of the tensor's largest element, and by 1e-6 absolute for gradients that are
 * zero up to rounding noise (a conv bias before batch norm).
 */
function assertCloseUpToReordering(actual: Tensor, expected: Tensor, what: string, ofLargest = 1e-5): void {
  const e = expected.float().toFloat32();
  const scale = e.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assertClose(actual.float(), e, { rtol: 1e-5, atol: 1e-6 + ofLargest * scale, what });
}

/**
 * The channels-last path: libtorch 1.13's channels-last batch norm accumulates its batch statistics in float where
 * the NCHW kernel uses double, so each batch norm adds up to ~1e-6 of error where the mean is large against the
 * spread (measured: 7e-6 at mean/std 30 against 3e-7 in NCHW). Through the small ResUNet's fourteen batch norms on
 * two images that reaches 1.4e-5 of the largest output (PyTorch's NCHW float32: 7e-7 from float64), so 2e-5 here.
 */
const assertCloseOnChannelsLast = (actual: Tensor, expected: Tensor, what: string) =>
  assertCloseUpToReordering(actual, expected, what, 2e-5);

/** A network laid out for training in `layout`, with the fixture's weights, in train mode, on its thread count. */
function withFixtureWeights(network: Network, fixture: Fixture, layout: TrainingLayout): Module {
  setNumThreads(Number(fixture.metadata['threads'] ?? 1));
  const net = prepareForTraining(network.build(), layout);
  net.loadStateDict(prefixed(fixture.tensors, 'param.'));
  net.train();
  return net;
}

/** Forward, loss and backward against the fixture; returns the network with its gradients. */
function checkForwardBackward(
  network: Network,
  fixture: Fixture,
  compare: (actual: Tensor, expected: Tensor, what: string) => void,
  layout: TrainingLayout = 'nchw',
): Module {
  const net = withFixtureWeights(network, fixture, layout);
  const out = net.forward(fixture.get('input'));
  compare(out, fixture.get('output'), 'forward output');
  const loss = network.loss(out, fixture.get('target'));
  compare(loss.reshape(1), fixture.get('loss'), 'loss');
  loss.backward();
  const grads = prefixed(fixture.tensors, 'grad.');
  assert.equal(grads.size, net.namedParameters().length);
  for (const [name, p] of net.namedParameters()) {
    compare(p.grad ?? assert.fail(`no gradient for ${name}`), grads.get(name)!, `grad of ${name}`);
  }
  for (const [name, b] of prefixed(fixture.tensors, 'buffer.')) {
    compare(net.stateDict().get(name) ?? assert.fail(`no buffer ${name}`), b, `buffer ${name}`);
  }
  return net;
}

function checkAfterAdam(net: Module, fixture: Fixture): void {
  for (const [name, expected] of prefixed(fixture.tensors, 'adam.')) {
    assertClose(net.stateDict().get(name)!, expected, { ...ARITHMETIC, what: `after Adam: ${name}` });
  }
}

/** One step of `optimizer` from the fixture's weights and PyTorch's gradients, against PyTorch's step. */
function checkAdamStep(
  network: Network,
  fixture: Fixture,
  optimizer: (params: Tensor[]) => Adam = (params) => new Adam(params, ADAM),
  layout: TrainingLayout = 'nchw',
): void {
  const net = withFixtureWeights(network, fixture, layout);
  const grads = prefixed(fixture.tensors, 'grad.');
  // backward() on a leaf with an explicit gradient stores exactly that gradient in .grad.
  for (const [name, p] of net.namedParameters())
    p.backward(grads.get(name) ?? assert.fail(`fixture lacks grad.${name}`));
  optimizer(net.parameters()).step();
  checkAfterAdam(net, fixture);
}

describe('parity with PyTorch 1.13 (the recorded fixtures)', () => {
  for (const network of NETWORKS) {
    const fixture = () => readFixture(join(fixtures, `${network.file}.safetensors`));
    it(`${network.title}: forward, loss, gradients, BN statistics`, () => {
      checkForwardBackward(network, fixture(), assertCloseUpToReordering);
    });
    it(`${network.title}: one Adam step from PyTorch's gradients`, () => {
      checkAdamStep(network, fixture());
    });
  }

  it('notices a wrong weight: parity is not vacuous', () => {
    const [, unet] = NETWORKS;
    const fixture = readFixture(join(fixtures, 'unet.safetensors'));
    fixture.tensors.get('param.conv.bias')!.add_(1e-3);
    assert.throws(
      () => checkForwardBackward(unet!, fixture, assertCloseUpToReordering),
      /forward output: element \d+ is/,
    );
  });

  it('notices a wrong Adam update: a learning rate off by 0.1 %, no weight decay, decoupled decay', () => {
    const [, unet] = NETWORKS;
    const fixture = readFixture(join(fixtures, 'unet.safetensors'));
    const wrong: ((params: Tensor[]) => Adam)[] = [
      (params) => new Adam(params, { ...ADAM, lr: 1.001e-2 }),
      (params) => new Adam(params, { ...ADAM, weightDecay: 0 }),
      (params) => new AdamW(params, ADAM),
    ];
    for (const optimizer of wrong) {
      assert.throws(() => checkAdamStep(unet!, fixture, optimizer), /after Adam: .* element \d+ is/);
    }
  });
});

// The training path (prepareForTraining's default): channels-last weights and activations, oneDNN's kernels on
// their own layout. Other kernels sum in another order, so the tolerance of another machine's, and a little more
// for the batch norm's statistics (assertCloseOnChannelsLast).
describe('parity with PyTorch 1.13 on the channels-last training path', () => {
  for (const network of NETWORKS) {
    const fixture = () => readFixture(join(fixtures, `${network.file}.safetensors`));
    it(`${network.title}: forward, loss, gradients, BN statistics`, () => {
      const net = checkForwardBackward(network, fixture(), assertCloseOnChannelsLast, 'channels-last');
      const weights = net.parameters().filter((p) => p.ndim === 4);
      assert.ok(weights.every((p) => p.isChannelsLast && p.grad?.isChannelsLast));
    });
    it(`${network.title}: one Adam step on channels-last weights from PyTorch's gradients`, () => {
      checkAdamStep(network, fixture(), undefined, 'channels-last');
    });
  }
});

const python = '/usr/bin/python3';

/** The real path of the libtorch_cpu that the addon (loaded on import) runs on, or null off Linux. */
function loadedLibtorch(): string | null {
  if (!existsSync('/proc/self/maps')) return null;
  const line = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .find((l) => l.includes('libtorch_cpu'));
  return line ? realpathSync(line.slice(line.indexOf('/'))) : null;
}

/** Recomputes the fixtures with this machine's PyTorch into a temporary folder, or says why it cannot. */
function recomputeHere(): { dir: string; leftOut: string } | { skip: string } {
  if (loadedLibtorch() === null) return { skip: 'cannot tell which libtorch the addon runs on' };
  if (!existsSync(python)) return { skip: `no ${python}` };
  const dir = mkdtempSync(join(tmpdir(), 'tumorscope-parity-'));
  const script = join(repoRoot, 'scripts', 'make-parity-fixtures.py');
  const run = spawnSync(python, [script, '--out', dir, '--skip-unavailable'], { encoding: 'utf8' });
  if (run.status !== 0 && /No module named 'torch'/.test(run.stderr))
    return { skip: `${python} has no torch` };
  assert.equal(run.status, 0, `${script} --out ${dir} failed:\n${run.stderr}`);
  return { dir, leftOut: run.stderr.trim() };
}

describe('parity with PyTorch recomputed on this machine', () => {
  const recomputed = recomputeHere();
  if ('dir' in recomputed) after(() => rmSync(recomputed.dir, { recursive: true, force: true }));
  for (const network of NETWORKS) {
    let fixture: Fixture | null = null;
    let skip: string | false;
    if ('skip' in recomputed) skip = recomputed.skip;
    else if (!existsSync(join(recomputed.dir, `${network.file}.safetensors`))) skip = recomputed.leftOut;
    else {
      fixture = readFixture(join(recomputed.dir, `${network.file}.safetensors`));
      const theirs = fixture.metadata['libtorch'];
      // Only the very same library sums in the same order; another build needs the tolerances above.
      skip = theirs === loadedLibtorch() ? false : `${python} runs ${theirs}, the addon ${loadedLibtorch()}`;
    }
    it(`${network.title}: end to end, one Adam step from our own gradients`, { skip }, () => {
      const net = checkForwardBackward(network, fixture!, (a, e, what) =>
        assertClose(a, e, { ...ARITHMETIC, what }),
      );
      new Adam(net.parameters(), ADAM).step();
      checkAfterAdam(net, fixture!);
    });
  }
});
