// Checkpoints that survive interruption: each epoch writes checkpoint-<epoch>.safetensors (model and optimiser
// tensors) and then checkpoint.json, which names that file; both atomically. A crash between the two leaves the
// previous pair intact, so --resume always finds a consistent state.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadSafetensors,
  type Module,
  type Optimizer,
  type OptimizerState,
  saveSafetensors,
  type Tensor,
  writeJsonAtomic,
} from '../engine/index.ts';

export interface CheckpointMeta {
  /** The last completed epoch (1-based). */
  epoch: number;
  weightsFile: string;
  optimizer: OptimizerState['json'];
  scheduler: Record<string, number> | null;
  /** Whatever the training loop needs to continue: best score, early-stopping counter, ... */
  loop: Record<string, unknown>;
}

const META = 'checkpoint.json';

export function saveCheckpoint(
  runDir: string,
  epoch: number,
  model: Module,
  optimizer: Optimizer,
  scheduler: Record<string, number> | null,
  loop: Record<string, unknown>,
): void {
  const weightsFile = `checkpoint-${epoch}.safetensors`;
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) tensors.set(`model.${k}`, t);
  const opt = optimizer.stateDict();
  for (const [k, t] of opt.tensors) tensors.set(`optimizer.${k}`, t);
  saveSafetensors(join(runDir, weightsFile), tensors);
  const meta: CheckpointMeta = { epoch, weightsFile, optimizer: opt.json, scheduler, loop };
  writeJsonAtomic(join(runDir, META), meta);
  for (const f of readdirSync(runDir)) {
    if (/^checkpoint-\d+\.safetensors$/.test(f) && f !== weightsFile)
      rmSync(join(runDir, f), { force: true });
  }
}

export function hasCheckpoint(runDir: string): boolean {
  return existsSync(join(runDir, META));
}

/** Restores model and optimiser in place; returns the metadata for the loop and scheduler. */
export function loadCheckpoint(runDir: string, model: Module, optimizer: Optimizer): CheckpointMeta {
  const metaPath = join(runDir, META);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as CheckpointMeta;
  } catch (err) {
    throw new Error(`${metaPath}: cannot read checkpoint (${(err as Error).message})`);
  }
  const { tensors } = loadSafetensors(join(runDir, meta.weightsFile));
  try {
    const modelState = new Map<string, Tensor>();
    const optimizerTensors = new Map<string, Tensor>();
    for (const [k, t] of tensors) {
      if (k.startsWith('model.')) modelState.set(k.slice(6), t);
      else if (k.startsWith('optimizer.')) optimizerTensors.set(k.slice(10), t);
    }
    model.loadStateDict(modelState);
    optimizer.loadStateDict({ json: meta.optimizer, tensors: optimizerTensors });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  return meta;
}
