import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  Adam,
  Dropout,
  F,
  Linear,
  manualSeed,
  ReLU,
  randn,
  Sequential,
  StepLR,
  tensor,
  tidy,
} from '../../src/engine/index.ts';
import { fit } from '../../src/train/fit.ts';
import { readLog } from '../../src/train/run-log.ts';

function setup(runDir: string, epochs: number, failAt = 0, patience = Number.POSITIVE_INFINITY) {
  manualSeed(11);
  const model = new Sequential(new Linear(4, 8), new ReLU(), new Dropout(0.3), new Linear(8, 1));
  const optimizer = new Adam(model.parameters(), { lr: 0.05 });
  const scheduler = new StepLR(optimizer, 2, 0.5);
  const x = tensor(
    Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)),
    [16, 4],
  ).keep();
  const y = x.sum(1, true).keep();
  const valScript = [0.5, 0.4, 0.45, 0.46, 0.47, 0.48];
  return {
    model,
    run: (resume: boolean) =>
      fit({
        runDir,
        epochs,
        seed: 5,
        model,
        optimizer,
        scheduler,
        resume,
        patience,
        monitor: 'val_loss',
        mode: 'min',
        modelConfig: { architecture: 'mlp' },
        log: () => {},
        trainEpoch: (epoch) => {
          if (epoch === failAt) throw new Error('interrupted');
          const loss = tidy(() => {
            const noise = randn([16, 1]).mul(0.01); // draws from libtorch's generator, like augmentation
            optimizer.zeroGrad();
            const l = F.mseLoss(model.forward(x), y.add(noise));
            l.backward();
            optimizer.step();
            return l.item();
          });
          return { loss };
        },
        validate: (epoch) => {
          if (patience !== Number.POSITIVE_INFINITY) return { val_loss: valScript[epoch - 1]! };
          return { val_loss: tidy(() => F.mseLoss(model.forward(x), y).item()) };
        },
      }),
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'tumorscope-fit-'));

describe('fit', () => {
  it('a run interrupted and resumed ends exactly where an uninterrupted run does', () => {
    const straight = setup(tmp(), 5);
    straight.run(false);
    const dir = tmp();
    const broken = setup(dir, 5, 3);
    assert.throws(() => broken.run(false), /interrupted/);
    assert.deepEqual(
      readLog(join(dir, 'log.jsonl')).map((r) => r.epoch),
      [1, 2],
    );
    const resumed = setup(dir, 5); // a fresh process: new model, new optimiser
    resumed.run(true);
    for (const [k, t] of straight.model.stateDict()) {
      assert.deepEqual(resumed.model.stateDict().get(k)!.data(), t.data(), k);
    }
    const log = readLog(join(dir, 'log.jsonl'));
    assert.deepEqual(
      log.map((r) => r.epoch),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      log.map((r) => r.lr),
      [0.05, 0.05, 0.025, 0.025, 0.0125],
    );
    assert.ok(existsSync(join(dir, 'best.safetensors')) && existsSync(join(dir, 'best.json')));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('checkpoint-')),
      ['checkpoint-5.safetensors'],
    );
  });

  it('keeps the best epoch and stops after patience epochs without improvement', () => {
    const dir = tmp();
    const result = setup(dir, 6, 0, 2).run(false);
    assert.deepEqual(result, { bestEpoch: 2, bestScore: 0.4, epochsRun: 4, stoppedEarly: true });
    assert.equal(readLog(join(dir, 'log.jsonl')).length, 4);
  });
});
