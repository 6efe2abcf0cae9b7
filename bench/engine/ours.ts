// tumorscope side of bench/engine: times one case in this (fresh) process and prints one JSON line, as
// reference.py does for PyTorch; training runs on the layout given (that of `tumorscope train`).
// usage: ours.ts MODEL-MODE THREADS ITERATIONS WARMUP SIZE BATCH LAYOUT [PRECISION]
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
import { ResUNet } from '../../src/models/resunet.ts';
import {
  prepareForTraining,
  type TrainingLayout,
  type TrainingPrecision,
  trainingForward,
} from '../../src/models/training.ts';
import { UNet } from '../../src/models/unet.ts';

const [name, threads, iterations, warmup, size, batch] = [
  process.argv[2]!,
  ...process.argv.slice(3, 8).map(Number),
] as [string, number, number, number, number, number];
const layout = process.argv[8] as TrainingLayout;
const precision = (process.argv[9] ?? 'fp32') as TrainingPrecision;
setNumThreads(threads);
manualSeed(0);
const [model, mode] = name.split('-') as ['unet' | 'resunet' | 'densenet', 'train' | 'infer'];
const networks = {
  unet: () => new UNet(),
  resunet: () => new ResUNet(),
  densenet: () => new DenseNet(DENSENET121),
};
const net: Module = networks[model]();
if (mode === 'train') prepareForTraining(net, layout);
const x = rand([batch, 3, size, size]);
const segmenting = model !== 'densenet';
const target: Tensor = segmenting ? rand([batch, 1, size, size]).gt(0.8).float() : randint(0, 2, [batch]);
const loss = (out: Tensor) => (segmenting ? F.bceWithLogits(out, target) : F.crossEntropy(out, target));
const opt = new Adam(net.parameters(), { lr: 1e-4 });
const step =
  mode === 'train'
    ? () =>
        tidy(() => {
          opt.zeroGrad();
          loss(trainingForward(net, x, precision)).backward();
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
console.log(JSON.stringify({ case: name, times, threads, layout, precision }));
