// bench/engine/layouts.ts: the two training layouts of one network in one process, stepping in turns (the first
// step of each is warm-up), so that both see about the same machine load: a comparison that holds up better on
// a busy machine than bench/engine's fresh-process measurements. Not a test.
//   node --import tsx bench/engine/layouts.ts resunet|densenet [THREADS]
// (the ResUNet at 256×256, DenseNet121 at 128×128, batch 16, Adam steps)
import {
  Adam,
  F,
  type Module,
  manualSeed,
  rand,
  randint,
  setNumThreads,
  type Tensor,
  tidy,
} from '../../src/engine/index.ts';
import { DENSENET121, DenseNet } from '../../src/models/densenet.ts';
import { ResUNet } from '../../src/models/resunet.ts';
import { prepareForTraining } from '../../src/models/training.ts';

setNumThreads(Number(process.argv[3] ?? 1));
const model = process.argv[2]!;
const [size, batch] = model === 'resunet' ? [256, 16] : [128, 16];
manualSeed(0);
const x = rand([batch, 3, size, size]);
const target: Tensor =
  model === 'resunet' ? rand([batch, 1, size, size]).gt(0.8).float() : randint(0, 2, [batch]);
const make = (layout: 'channels-last' | 'nchw') => {
  const net: Module = prepareForTraining(
    model === 'resunet' ? new ResUNet() : new DenseNet(DENSENET121),
    layout,
  );
  net.train();
  const opt = new Adam(net.parameters(), { lr: 1e-4 });
  return () =>
    tidy(() => {
      opt.zeroGrad();
      const out = net.forward(x);
      (model === 'resunet' ? F.bceWithLogits(out, target) : F.crossEntropy(out, target)).backward();
      opt.step();
    });
};
const steps = { 'channels-last': make('channels-last'), nchw: make('nchw') };
const times: Record<string, number[]> = { 'channels-last': [], nchw: [] };
for (let i = 0; i < 4; i++)
  for (const k of i % 2 ? (['nchw', 'channels-last'] as const) : (['channels-last', 'nchw'] as const)) {
    const t0 = performance.now();
    steps[k]();
    const t = (performance.now() - t0) / 1000;
    if (i > 0) times[k]!.push(t);
    console.log(model, k, t.toFixed(2));
  }
const med = (a: number[]) => [...a].sort((p, q) => p - q)[1]!;
console.log(
  model,
  'median CL',
  med(times['channels-last']!).toFixed(2),
  'NCHW',
  med(times.nchw!).toFixed(2),
  'ratio',
  (med(times['channels-last']!) / med(times.nchw!)).toFixed(3),
);
