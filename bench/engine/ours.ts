// tumorscope side of bench/engine: times one case in this (fresh) process and prints one JSON line, as
// reference.py does for PyTorch.  usage: ours.ts CASE THREADS ITERATIONS WARMUP SIZE BATCH
import {
  Adam,
  F,
  type Module,
  manualSeed,
  noGrad,
  rand,
  randint,
  setNumThreads,
  type Tensor,
  tidy,
} from '../../src/engine/index.ts';
import { DENSENET121, DenseNet } from '../../src/models/densenet.ts';
import { UNet } from '../../src/models/unet.ts';

const [name, threads, iterations, warmup, size, batch] = [
  process.argv[2]!,
  ...process.argv.slice(3, 8).map(Number),
] as [string, number, number, number, number, number];
setNumThreads(threads);
manualSeed(0);
const [model, mode] = name.split('-') as ['unet' | 'densenet', 'train' | 'infer'];
const net: Module = model === 'unet' ? new UNet() : new DenseNet(DENSENET121);
const x = rand([batch, 3, size, size]);
const target: Tensor =
  model === 'unet' ? rand([batch, 1, size, size]).gt(0.8).float() : randint(0, 2, [batch]);
const loss = (out: Tensor) => (model === 'unet' ? F.bceWithLogits(out, target) : F.crossEntropy(out, target));
const opt = new Adam(net.parameters(), { lr: 1e-4 });
const step =
  mode === 'train'
    ? () =>
        tidy(() => {
          opt.zeroGrad();
          loss(net.forward(x)).backward();
          opt.step();
        })
    : () => noGrad(() => tidy(() => void net.forward(x)));
net.train(mode === 'train');
for (let i = 0; i < warmup; i++) step();
const times: number[] = [];
for (let i = 0; i < iterations; i++) {
  const t0 = performance.now();
  step();
  times.push((performance.now() - t0) / 1000);
}
console.log(JSON.stringify({ case: name, times, threads }));
