// Parity with PyTorch: the same networks, weights and inputs as scripts/make-parity-fixtures.py, run by PyTorch
// 1.13 once; forward output, loss, every gradient, batch-norm statistics and one Adam step must match.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  Adam,
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
import { UNet } from '../../src/models/unet.ts';
import { assertClose } from '../helpers/assert-close.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'parity');
const RTOL = 1e-5;

function prefixed(all: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  return new Map([...all].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

function checkAgainstPyTorch(file: string, net: Module, loss: (out: Tensor, target: Tensor) => Tensor): void {
  const { tensors, metadata } = loadSafetensors(join(fixtures, file));
  // Same thread count as PyTorch had: float sums split across threads round differently.
  setNumThreads(Number(metadata['threads'] ?? 1));
  const get = (k: string) => tensors.get(k) ?? assert.fail(`fixture lacks ${k}`);
  net.loadStateDict(prefixed(tensors, 'param.'));
  net.train();
  const out = net.forward(get('input'));
  assertClose(out, get('output'), { rtol: RTOL, atol: 1e-6, what: 'forward output' });
  const l = loss(out, get('target'));
  assertClose([l.item()], get('loss'), { rtol: RTOL, what: 'loss' });
  const optimizer = new Adam(net.parameters(), { lr: 1e-2, weightDecay: 1e-4 });
  optimizer.zeroGrad();
  l.backward();
  const grads = prefixed(tensors, 'grad.');
  assert.equal(grads.size, net.namedParameters().length);
  for (const [name, p] of net.namedParameters()) {
    assertClose(p.grad!, grads.get(name)!, { rtol: RTOL, atol: 1e-6, what: `grad of ${name}` });
  }
  for (const [name, b] of prefixed(tensors, 'buffer.')) {
    const own = net.stateDict().get(name) ?? assert.fail(`no buffer ${name}`);
    assertClose(own.float(), b.float(), { rtol: RTOL, atol: 1e-7, what: `buffer ${name}` });
  }
  optimizer.step();
  for (const [name, expected] of prefixed(tensors, 'adam.')) {
    const p = net.stateDict().get(name)!;
    assertClose(p, expected, { rtol: RTOL, atol: 1e-7, what: `after Adam: ${name}` });
  }
}

describe('parity with PyTorch 1.13', () => {
  it('small conv net: forward, loss, gradients, BN statistics, one Adam step', () => {
    const net = new Sequential(
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
    );
    checkAgainstPyTorch('convnet.safetensors', net, (out, t) => F.crossEntropy(out, t));
  });

  it('small U-Net (Buda et al. layout): forward, loss, gradients, BN statistics, one Adam step', () => {
    const net = new UNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 });
    checkAgainstPyTorch('unet.safetensors', net, (out, t) => F.bceWithLogits(out, t));
  });

  it("small DenseNet (torchvision's code, in-place ReLUs): forward, loss, gradients, BN statistics, one Adam step", () => {
    const net = new DenseNet({
      ...DENSENET121,
      growthRate: 4,
      blockConfig: [2, 2],
      numInitFeatures: 8,
      bnSize: 2,
    });
    checkAgainstPyTorch('densenet.safetensors', net, (out, t) => F.crossEntropy(out, t));
  });

  it('notices a wrong weight: parity is not vacuous', () => {
    const net = new UNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 });
    const { tensors } = loadSafetensors(join(fixtures, 'unet.safetensors'));
    const params = prefixed(tensors, 'param.');
    params.get('conv.bias')!.add_(1e-3);
    net.loadStateDict(params);
    assert.throws(() =>
      assertClose(net.forward(tensors.get('input')!), tensors.get('output')!, { rtol: RTOL, atol: 1e-6 }),
    );
  });
});
