// A long training loop must not grow: every step's tensors are freed by tidy(), not by the garbage collector.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  Adam,
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  F,
  Flatten,
  Linear,
  ReLU,
  randint,
  randn,
  Sequential,
  tidy,
} from '../../src/engine/index.ts';

it('resident memory stays flat over 2,500 training steps of a small model', () => {
  const net = new Sequential(
    new Conv2d(3, 8, 3, { padding: 1 }),
    new BatchNorm2d(8),
    new ReLU(),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(8, 2),
  );
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const step = () =>
    tidy(() => {
      const x = randn([16, 3, 16, 16]); // 49 KB a step, plus activations and gradients: 100+ MB over the run if it leaked
      const y = randint(0, 2, [16]);
      opt.zeroGrad();
      const loss = F.crossEntropy(net.forward(x), y);
      loss.backward();
      opt.step();
    });
  for (let i = 0; i < 300; i++) step(); // warm-up: allocator pools, lazy initialisation
  const rss = () => process.memoryUsage().rss / 2 ** 20;
  const before = rss();
  const samples: number[] = [];
  for (let i = 0; i < 2200; i++) {
    step();
    if (i % 220 === 0) samples.push(rss());
  }
  const after = rss();
  assert.ok(
    after - before < 40,
    `RSS grew from ${before.toFixed(0)} MB to ${after.toFixed(0)} MB (samples ${samples.map((s) => s.toFixed(0)).join(', ')})`,
  );
});
