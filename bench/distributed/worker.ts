// One process of bench/distributed: times the project's training step (DenseNet121 with cross-entropy, or the
// reference ResUNet with BCE + Dice; Adam) on random inputs, alone or as one rank of a data-parallel group, and
// prints one JSON line (rank 0 only when in a group).
//   usage: worker.ts '{"model":"densenet","size":128,"batch":16,"processes":2,"threads":1,"rank":0,"port":29500,...}'
import {
  Adam,
  F,
  type Module,
  manualSeed,
  ProcessGroup,
  rand,
  randint,
  setNumThreads,
  type Tensor,
  tidy,
} from '../../src/engine/index.ts';
import { DENSENET121, DenseNet } from '../../src/models/densenet.ts';
import { DataParallel } from '../../src/train/data-parallel.ts';
import { segmentationLoss } from '../../src/train/segmentation-loss.ts';
import { buildSegmenter } from '../../src/train/segmenter.ts';

interface BenchArgs {
  model: 'densenet' | 'resunet';
  size: number;
  /** The global batch: each of `processes` takes batch / processes. */
  batch: number;
  processes: number;
  threads: number;
  rank: number;
  port: number;
  iterations: number;
  warmup: number;
}

const a = JSON.parse(process.argv[2]!) as BenchArgs;
setNumThreads(a.threads);
const group =
  a.processes > 1
    ? ProcessGroup.join({
        masterAddr: '127.0.0.1',
        masterPort: a.port,
        rank: a.rank,
        worldSize: a.processes,
        timeoutSeconds: 600,
      })
    : undefined;
manualSeed(a.rank);
const local = a.batch / a.processes;
const net: Module =
  a.model === 'densenet'
    ? new DenseNet({ ...DENSENET121, numClasses: 2, headDropout: 0.2 })
    : buildSegmenter('resunet', 1).model;
const parallel = group ? new DataParallel(group, net) : undefined;
const x = rand([local, 3, a.size, a.size]).keep();
const target: Tensor = (
  a.model === 'densenet' ? randint(0, 2, [local]) : rand([local, 1, a.size, a.size]).gt(0.9).float()
).keep();
const loss = (out: Tensor) =>
  a.model === 'densenet' ? F.crossEntropy(out, target) : segmentationLoss('bce-dice', out, target);
const optimizer = new Adam(net.parameters(), { lr: 1e-4 });
net.train();

/** One step; returns the seconds spent in communication (including waiting for the slower rank). */
function step(): number {
  let communication = 0;
  const timed = (fn: () => void) => {
    const t0 = performance.now();
    fn();
    communication += (performance.now() - t0) / 1000;
  };
  tidy(() => {
    optimizer.zeroGrad();
    if (parallel) timed(() => parallel.syncBuffers());
    const l = loss(net.forward(x));
    l.backward();
    if (parallel) timed(() => parallel.averageGradients());
    optimizer.step();
    const value = l.item();
    if (parallel) timed(() => void parallel.mean(value));
  });
  return communication;
}

for (let i = 0; i < a.warmup; i++) step();
const times: number[] = [];
const communication: number[] = [];
for (let i = 0; i < a.iterations; i++) {
  const t0 = performance.now();
  communication.push(step());
  times.push((performance.now() - t0) / 1000);
}
group?.barrier();
group?.close();
if (a.rank === 0) console.log(JSON.stringify({ times, communication }));
