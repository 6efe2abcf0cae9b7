// A model on disk: weights as <name>.safetensors plus <name>.json holding the architecture and everything
// inference must repeat (preprocessing, threshold, post-processing). Both written atomically.
import { existsSync, readFileSync } from 'node:fs';
import type { Module } from '../nn/module.ts';
import { writeJsonAtomic } from './atomic.ts';
import { loadSafetensors, saveSafetensors } from './safetensors.ts';

export interface SavedModelPaths {
  weights: string;
  config: string;
}

/** model.safetensors + model.json for a base path 'dir/model' (an extension given is dropped). */
export function modelPaths(base: string): SavedModelPaths {
  const stem = base.replace(/\.(safetensors|json)$/, '');
  return { weights: `${stem}.safetensors`, config: `${stem}.json` };
}

export function saveModel(base: string, module: Module, config: Record<string, unknown>): SavedModelPaths {
  const paths = modelPaths(base);
  saveSafetensors(paths.weights, module.stateDict(), { format: 'pt', producer: 'tumorscope' });
  writeJsonAtomic(paths.config, config);
  return paths;
}

export function readModelConfig<T = Record<string, unknown>>(base: string): T {
  const { config } = modelPaths(base);
  if (!existsSync(config)) throw new Error(`${config}: model config not found`);
  try {
    return JSON.parse(readFileSync(config, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${config}: not valid JSON (${(err as Error).message})`);
  }
}

/** Loads weights into a module built from the config; strict by default. */
export function loadWeightsInto(base: string, module: Module, options: { strict?: boolean } = {}): void {
  const { weights } = modelPaths(base);
  const { tensors } = loadSafetensors(weights);
  try {
    module.loadStateDict(tensors, options);
  } catch (err) {
    throw new Error(`${weights}: ${(err as Error).message}`);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
