// The training API refuses values that would hang, fail late or train nonsense, naming the option, before it
// reads any data; and a run whose training loss stops being a number ends there, saving nothing of that epoch.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanDataset } from '../../src/data/dataset-index.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import { Adam, Linear, readModelConfig } from '../../src/engine/index.ts';
import { forEachBatch } from '../../src/inference/batches.ts';
import { type ClassifierTrainOptions, trainClassifier } from '../../src/train/classifier.ts';
import { fit, TrainingDivergedError } from '../../src/train/fit.ts';
import { readLog } from '../../src/train/run-log.ts';
import { type SegmenterTrainOptions, trainSegmenter } from '../../src/train/segmenter.ts';
import { tempDir } from '../data/fixtures.ts';
import { writeVisibleTumours } from '../helpers/visible-tumours.ts';

// No data here: every refusal below must come before the data is read.
const MISSING = '/nonexistent/tumorscope-guards-test';
const quiet = () => {};

const classifier: ClassifierTrainOptions = {
  data: MISSING,
  out: MISSING,
  epochs: 1,
  batch: 8,
  lr: 1e-3,
  size: 32,
  seed: 0,
  resume: false,
  patience: 5,
  sampling: { kind: 'uniform' },
  augment: null,
  headDropout: 0,
  command: 'test',
  log: quiet,
};

const segmenter: SegmenterTrainOptions = {
  data: MISSING,
  out: MISSING,
  architecture: 'resunet',
  width: 1,
  epochs: 1,
  batch: 8,
  lr: 1e-3,
  size: 32,
  seed: 0,
  resume: false,
  patience: 5,
  loss: 'bce-dice',
  sampling: { kind: 'tumour-only' },
  augment: null,
  command: 'test',
  log: quiet,
};

function fitOnce(runDir: string, epochs: number, trainLoss: (epoch: number) => number) {
  const model = new Linear(2, 1);
  return fit({
    runDir,
    epochs,
    seed: 0,
    model,
    optimizer: new Adam(model.parameters()),
    monitor: 'val_loss',
    mode: 'min',
    modelConfig: {},
    log: quiet,
    trainEpoch: (epoch) => ({ train_loss: trainLoss(epoch) }),
    validate: (epoch) => ({ val_loss: 1 / epoch }),
  });
}

describe('training guards', () => {
  it('a batch size of 0 or NaN throws instead of never advancing', () => {
    for (const size of [0, Number.NaN, 1.5, -2]) {
      assert.throws(() => forEachBatch([1, 2, 3], size, () => {}), {
        name: 'RangeError',
        message: `batch size must be an integer ≥ 1, got ${size}`,
      });
    }
  });

  it('fit refuses 0 epochs, which would leave no best model', (t) => {
    assert.throws(() => fitOnce(tempDir(t), 0, () => 1), { name: 'RangeError', message: /^epochs must be/ });
  });

  it('fit stops at the first epoch whose training loss is not finite, keeping the sound epochs', (t) => {
    const dir = tempDir(t);
    assert.throws(
      () => fitOnce(dir, 4, (epoch) => (epoch < 3 ? 1 / epoch : Number.NaN)),
      (err: unknown) =>
        err instanceof TrainingDivergedError &&
        err.epoch === 3 &&
        /^training diverged in epoch 3: train_loss is NaN/.test(err.message),
    );
    assert.deepEqual(
      readLog(join(dir, 'log.jsonl')).map((r) => r.epoch),
      [1, 2],
    );
    assert.equal(readModelConfig<{ bestEpoch: number }>(join(dir, 'best')).bestEpoch, 2);
  });

  it('both stages refuse bad options before reading data, naming them', async () => {
    const cases: Array<[Promise<unknown>, RegExp]> = [
      [trainClassifier({ ...classifier, batch: 0 }), /^batch must be an integer ≥ 1, got 0$/],
      [trainClassifier({ ...classifier, epochs: 0 }), /^epochs must be/],
      [trainClassifier({ ...classifier, lr: Number.NaN }), /^lr must be a number above 0/],
      [
        trainClassifier({ ...classifier, size: 1 }),
        /^size must be at least 32 \(DenseNet halves it 5 times\)/,
      ],
      [trainClassifier({ ...classifier, headDropout: Number.NaN }), /^headDropout must be/],
      [trainClassifier({ ...classifier, classWeights: [1, 0] }), /^classWeights must be a number above 0/],
      [trainClassifier({ ...classifier, patience: 0 }), /^patience must be/],
      [trainSegmenter({ ...segmenter, size: 0 }), /^size must be an integer ≥ 1, got 0/],
      [
        trainSegmenter({ ...segmenter, size: 40 }),
        /^size must be a multiple of 16 \(the resunet halves it 4 times\)/,
      ],
      [trainSegmenter({ ...segmenter, architecture: 'unet', size: 8 }), /^size must be a multiple of 16/],
      [trainSegmenter({ ...segmenter, width: 0.01 }), /^width 0.01 leaves the resunet no filters/],
      [trainSegmenter({ ...segmenter, batch: Number.NaN }), /^batch must be an integer/],
    ];
    for (const [run, message] of cases) await assert.rejects(run, { name: 'RangeError', message });
    assert.ok(!existsSync(MISSING));
  });

  it('decoding slices at a size that is not a positive integer throws, naming it', async (t) => {
    const index = scanDataset(writeVisibleTumours(tempDir(t)));
    await assert.rejects(loadSlices(index, { width: Number.NaN }), {
      name: 'RangeError',
      message: 'width must be an integer ≥ 1 to decode slices at, got NaN',
    });
    await assert.rejects(loadSlices(index, { width: 16, height: 0 }), {
      name: 'RangeError',
      message: /^height/,
    });
  });
});
