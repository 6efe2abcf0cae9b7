// Shared by the import tests: the small DenseNet of scripts/make-import-fixtures.py, its files and expected outputs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, noGrad, type Tensor } from '../../../src/engine/index.ts';
import { DenseNet, type DenseNetConfig } from '../../../src/models/densenet.ts';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'import');

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** torchvision.models.DenseNet(growth_rate=4, block_config=(1, 2, 1, 1), num_init_features=8, bn_size=2). */
export function smallDenseNet(overrides: Partial<DenseNetConfig> = {}): DenseNet {
  return new DenseNet({
    growthRate: 4,
    blockConfig: [1, 2, 1, 1],
    numInitFeatures: 8,
    bnSize: 2,
    dropRate: 0,
    numClasses: 2,
    headDropout: 0,
    headHidden: 0,
    ...overrides,
  });
}

/** The input and torchvision's eval-mode outputs for it: pooled features [2, 9] and 1000-class logits. */
export function expectedOutputs(): { input: Tensor; features: Tensor; logits: Tensor } {
  const { tensors } = loadSafetensors(fixture('densenet-small-expected.safetensors'));
  return { input: tensors.get('input')!, features: tensors.get('features')!, logits: tensors.get('logits')! };
}

export function evalForward(net: DenseNet, input: Tensor): { features: Tensor; logits: Tensor } {
  return noGrad(() => {
    net.eval();
    return { features: net.embed(input), logits: net.forward(input) };
  });
}

/** Writes bytes to a new temporary file (for damaged copies of fixtures) and returns its path. */
export function writeTemp(name: string, bytes: Uint8Array | string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tumorscope-import-')), name);
  writeFileSync(path, bytes);
  return path;
}

/** Copies of every tensor of the model's state dict, as numbers, to check that a failed import changed nothing. */
export function snapshot(net: DenseNet): Map<string, number[]> {
  return new Map([...net.stateDict()].map(([k, t]) => [k, Array.from(t.toFloat32())]));
}
