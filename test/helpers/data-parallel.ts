// What the data-parallel tests share: a tiny network (with or without batch norm), the global batches of each
// step, and one training step; the worker (data-parallel-worker.ts) and the single-process reference use them.

import { mulberry32 } from '../../src/data/random.ts';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  F,
  Flatten,
  Linear,
  type Module,
  manualSeed,
  ReLU,
  Sequential,
  SGD,
  type Tensor,
  tensor,
} from '../../src/engine/index.ts';

export const GLOBAL_BATCH = 8;
export const SGD_OPTIONS = { lr: 0.1, momentum: 0.9 };
const SIDE = 8;

/** The same seed gives the same weights on every rank; ranks seed differently to show that rank 0's win. */
export function tinyNet(batchNorm: boolean, seed: number): Module {
  manualSeed(seed);
  const layers: Module[] = [new Conv2d(3, 4, 3, { padding: 1 })];
  if (batchNorm) layers.push(new BatchNorm2d(4));
  layers.push(new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 2));
  return new Sequential(...layers);
}

export function makeOptimizer(model: Module): SGD {
  return new SGD(model.parameters(), SGD_OPTIONS);
}

/** Rows [from, to) of step `step`'s global batch: images [n, 3, 8, 8] and regression targets [n, 2]. */
export function batchRows(step: number, from: number, to: number): { x: Tensor; y: Tensor } {
  const rng = mulberry32(1000 + step);
  const images = Float32Array.from({ length: GLOBAL_BATCH * 3 * SIDE * SIDE }, () => rng.normal());
  const targets = Float32Array.from({ length: GLOBAL_BATCH * 2 }, () => rng.normal());
  const per = 3 * SIDE * SIDE;
  return {
    x: tensor(images.slice(from * per, to * per), [to - from, 3, SIDE, SIDE]),
    y: tensor(targets.slice(from * 2, to * 2), [to - from, 2]),
  };
}

export function lossOf(model: Module, rows: { x: Tensor; y: Tensor }): Tensor {
  return F.mseLoss(model.forward(rows.x), rows.y);
}

/** Every parameter and buffer as plain numbers, by state-dict name. */
export function weightsOf(model: Module): Record<string, number[]> {
  return Object.fromEntries([...model.stateDict()].map(([k, t]) => [k, Array.from(t.toFloat32())]));
}
