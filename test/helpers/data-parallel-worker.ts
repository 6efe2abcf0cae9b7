// One rank of the data-parallel tests, run as its own process: joins the group on 127.0.0.1, trains the tiny
// network (without, then with batch norm) on its share of each global batch and writes the weights as JSON. With `forever` it keeps training and
// prints a line per step, for the tests that kill or stop a rank.
import { writeFileSync } from 'node:fs';
import { ProcessGroup, tidy } from '../../src/engine/index.ts';
import { DataParallel } from '../../src/train/data-parallel.ts';
import { batchRows, GLOBAL_BATCH, lossOf, makeOptimizer, tinyNet, weightsOf } from './data-parallel.ts';

interface WorkerArgs {
  port: number;
  rank: number;
  worldSize: number;
  steps: number;
  timeoutSeconds: number;
  out?: string;
  forever?: boolean;
  /** A value every rank must agree on (the tests give the ranks different ones). */
  settings?: unknown;
}

const a = JSON.parse(process.argv[2]!) as WorkerArgs;
const group = ProcessGroup.join({
  masterAddr: '127.0.0.1',
  masterPort: a.port,
  rank: a.rank,
  worldSize: a.worldSize,
  timeoutSeconds: a.timeoutSeconds,
});
if (a.settings !== undefined) group.agree('the settings', a.settings);
const local = GLOBAL_BATCH / a.worldSize;

/** Trains a fresh tiny network (each rank seeded differently) for the steps asked; returns its weights. */
function train(batchNorm: boolean): Record<string, number[]> {
  const model = tinyNet(batchNorm, 1 + 1000 * a.rank);
  const parallel = new DataParallel(group, model);
  const optimizer = makeOptimizer(model);
  for (let step = 0; a.forever || step < a.steps; step++) {
    tidy(() => {
      const rows = batchRows(step % 4, a.rank * local, (a.rank + 1) * local);
      optimizer.zeroGrad();
      parallel.syncBuffers();
      lossOf(model, rows).backward();
      parallel.averageGradients();
      optimizer.step();
    });
    if (a.forever) console.log(`step ${step}`);
  }
  return weightsOf(model);
}

const weights = { plain: train(false), batchNorm: train(true) };
// What rank 0 tells the others, non-finite numbers included (written as text: JSON would turn them into null).
const told = group.fromRank0('a message', () => ({
  nan: Number.NaN,
  inf: Number.NEGATIVE_INFINITY,
  rank: a.rank,
}));
if (a.out)
  writeFileSync(a.out, JSON.stringify({ ...weights, told: [String(told.nan), String(told.inf), told.rank] }));
group.barrier();
group.close();
