import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noGrad, rand } from '../../src/engine/index.ts';
import { DENSENET121, DenseNet } from '../../src/models/densenet.ts';
import { ResUNet } from '../../src/models/resunet.ts';
import { UNet } from '../../src/models/unet.ts';

describe('architectures', () => {
  it("DenseNet121 with a 2-class head has torchvision's 6,955,906 parameters and key names", () => {
    const net = new DenseNet(DENSENET121);
    assert.equal(net.parameterCount(), 6_955_906);
    const keys = [...net.stateDict().keys()];
    assert.ok(keys.includes('features.denseblock1.denselayer1.norm1.weight'));
    assert.ok(keys.includes('features.transition3.conv.weight'));
    assert.ok(keys.includes('features.norm5.running_var'));
    assert.deepEqual(keys.slice(-2), ['classifier.weight', 'classifier.bias']);
    assert.equal(net.numFeatures, 1024);
    const logits = noGrad(() => net.eval().forward(rand([1, 3, 64, 64])));
    assert.deepEqual(logits.shape, [1, 2]);
  });

  it("Buda et al.'s U-Net (32 filters) has 7,763,041 parameters and keeps the input size", () => {
    const net = new UNet();
    assert.equal(net.parameterCount(), 7_763_041);
    const out = noGrad(() =>
      new UNet({ inChannels: 3, outChannels: 1, features: 4, depth: 3 }).forward(rand([2, 3, 32, 32])),
    );
    assert.deepEqual(out.shape, [2, 1, 32, 32]);
  });

  it('the reference ResUNet has 1,206,129 trainable parameters and 4,384 batch-norm statistics', () => {
    const net = new ResUNet();
    assert.equal(net.parameterCount(), 1_206_129);
    const stats = net
      .namedBuffers()
      .filter(([k]) => !k.endsWith('num_batches_tracked'))
      .reduce((n, [, t]) => n + t.numel, 0);
    assert.equal(stats, 4_384);
    const small = new ResUNet({ inChannels: 3, outChannels: 1, features: 4, depth: 3 });
    assert.deepEqual(noGrad(() => small.eval().forward(rand([2, 3, 32, 32]))).shape, [2, 1, 32, 32]);
  });
});
