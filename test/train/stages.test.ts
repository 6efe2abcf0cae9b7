// Both training commands end to end on a small synthetic dataset whose tumours are visible (a bright square in
// the image where the mask has it): the loss falls, every promised file is written, the split is by patient,
// and --resume continues after the last finished epoch.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSafetensors, readModelConfig } from '../../src/engine/index.ts';
import { DENSENET121, DenseNet } from '../../src/models/densenet.ts';
import { importPretrained } from '../../src/models/import/import-pretrained.ts';
import { loadModel } from '../../src/pipeline/load-model.ts';
import { parsePostprocessConfig } from '../../src/postprocess/index.ts';
import { trainClassifier } from '../../src/train/classifier.ts';
import { readLog } from '../../src/train/run-log.ts';
import { trainSegmenter } from '../../src/train/segmenter.ts';
import { tempDir } from '../data/fixtures.ts';
import { IMAGE_SIZE, writeVisibleTumours } from '../helpers/visible-tumours.ts';

const SIZE = IMAGE_SIZE;

const quiet = () => {};

/** A half-width ResUNet for three epochs on the visible-tumour data (the segmenter tests' run). */
const smallSegmenterRun = (data: string, out: string, log: (line: string) => void) => ({
  data,
  out,
  architecture: 'resunet' as const,
  width: 0.5,
  epochs: 3,
  batch: 8,
  lr: 3e-3,
  size: SIZE,
  seed: 1,
  resume: false,
  patience: 100,
  loss: 'bce-dice' as const,
  sampling: { kind: 'tumour-only' } as const,
  augment: null,
  command: 'test',
  log,
});

describe('training stages', () => {
  it('classifier: loss falls, files are written, the split is by patient, resume continues', async (t) => {
    const data = writeVisibleTumours(tempDir(t));
    const out = join(tempDir(t), 'run');
    const common = {
      data,
      out,
      batch: 8,
      lr: 1e-3,
      size: SIZE,
      seed: 1,
      patience: 100,
      sampling: { kind: 'uniform' } as const,
      augment: null,
      headDropout: 0,
      command: 'test',
      log: quiet,
    };
    await trainClassifier({ ...common, epochs: 3, resume: false });
    const log = readLog(join(out, 'log.jsonl'));
    assert.deepEqual(
      log.map((r) => r.epoch),
      [1, 2, 3],
    );
    assert.ok(
      log[2]!['train_loss']! < log[0]!['train_loss']!,
      `train loss ${log.map((r) => r['train_loss']).join(' → ')}`,
    );
    for (const k of ['val_loss', 'val_accuracy', 'val_precision', 'val_recall', 'val_f1', 'val_auc'])
      assert.ok(k in log[0]!, k);
    // Accuracy on both splits, so that the report's curves compare them.
    for (const r of log)
      assert.ok(r['train_accuracy']! >= 0 && r['train_accuracy']! <= 1, `${r['train_accuracy']}`);
    const config = readModelConfig<{
      threshold: number;
      preprocess: { width: number };
      kind: string;
      training: { patients: { train: string[]; val: string[] } };
    }>(join(out, 'best'));
    assert.equal(config.kind, 'classifier');
    assert.equal(config.preprocess.width, SIZE);
    assert.ok(config.threshold >= 0 && config.threshold <= 1);
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    // The patients it learnt from travel with the model (evaluate warns on them wherever split.json is).
    assert.deepEqual(config.training.patients, {
      train: split.splits.train.patients,
      val: split.splits.val.patients,
    });
    const sets = ['train', 'val', 'test'].map((s) => new Set<string>(split.splits[s].patients));
    for (const id of sets[0]!) assert.ok(!sets[1]!.has(id) && !sets[2]!.has(id), `${id} in two splits`);
    // Checkpoints are row-major: one written by a channels-last run (the default) resumes on NCHW weights.
    await trainClassifier({ ...common, epochs: 4, resume: true, layout: 'nchw' });
    assert.deepEqual(
      readLog(join(out, 'log.jsonl')).map((r) => r.epoch),
      [1, 2, 3, 4],
    );
  });

  it('classifier from pretrained weights: backbone imported, their normalisation becomes the preprocessing', async (t) => {
    const data = writeVisibleTumours(tempDir(t));
    const out = join(tempDir(t), 'run');
    const logs: string[] = [];
    await trainClassifier({
      data,
      out,
      epochs: 1,
      batch: 8,
      lr: 1e-3,
      size: SIZE,
      seed: 1,
      resume: false,
      patience: 100,
      sampling: { kind: 'uniform' },
      augment: null,
      headDropout: 0,
      // The small torchvision-format DenseNet that test/models/import's fixtures hold.
      network: { growthRate: 4, blockConfig: [1, 2, 1, 1], numInitFeatures: 8, bnSize: 2 },
      pretrained: join(import.meta.dirname, '..', 'fixtures', 'import', 'densenet-small.pth'),
      command: 'test',
      log: (line) => logs.push(line),
    });
    const config = readModelConfig<{
      preprocess: { intensity: { kind: string; mean?: number[]; std?: number[] } };
      pretrained: { format: string; file: string };
    }>(join(out, 'best'));
    assert.deepEqual(config.preprocess.intensity, {
      kind: 'rescale',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    assert.equal(config.pretrained.format, 'torch-zip');
    assert.ok(
      logs.some((l) => /pretrained: \d+ tensors/.test(l)),
      logs.join('\n'),
    );
  });

  it('classifier transfer learning: a frozen backbone stays as imported; after a head warm-up it trains', async (t) => {
    const data = writeVisibleTumours(tempDir(t));
    const network = { growthRate: 4, blockConfig: [1, 2, 1, 1], numInitFeatures: 8, bnSize: 2 };
    const pretrained = join(import.meta.dirname, '..', 'fixtures', 'import', 'densenet-small.pth');
    const imported = new DenseNet({ ...DENSENET121, ...network, numClasses: 2, headDropout: 0 });
    importPretrained(pretrained, imported);
    const weightsOf = (file: string) => loadSafetensors(file).tensors;
    /** Names of the checkpoint's model tensors that differ from the imported ones, backbone and head apart. */
    const changed = (run: string, epoch: number) => {
      const saved = weightsOf(join(run, `checkpoint-${epoch}.safetensors`));
      const names = { backbone: [] as string[], head: [] as string[] };
      for (const [key, value] of imported.stateDict()) {
        const same =
          JSON.stringify([...saved.get(`model.${key}`)!.toFloat32()]) ===
          JSON.stringify([...value.toFloat32()]);
        if (!same) (key.startsWith('features.') ? names.backbone : names.head).push(key);
      }
      return names;
    };
    const common = {
      data,
      batch: 8,
      lr: 1e-3,
      size: SIZE,
      seed: 1,
      patience: 100,
      sampling: { kind: 'uniform' } as const,
      augment: null,
      headDropout: 0,
      network,
      pretrained,
      command: 'test',
      log: quiet,
    };
    const frozen = join(tempDir(t), 'frozen');
    await trainClassifier({ ...common, out: frozen, epochs: 1, resume: false, freezeBackbone: true });
    const afterFrozen = changed(frozen, 1);
    assert.deepEqual(afterFrozen.backbone, [], 'weights and batch-norm statistics of the backbone unchanged');
    assert.ok(afterFrozen.head.includes('classifier.weight'));

    const warm = join(tempDir(t), 'warm');
    await trainClassifier({ ...common, out: warm, epochs: 1, resume: false, headWarmupEpochs: 1 });
    assert.deepEqual(changed(warm, 1).backbone, []);
    await trainClassifier({ ...common, out: warm, epochs: 2, resume: true, headWarmupEpochs: 1 });
    const afterWarmup = changed(warm, 2).backbone;
    assert.ok(afterWarmup.includes('features.conv0.weight'), afterWarmup.join(', '));
    assert.ok(afterWarmup.includes('features.norm0.running_mean'));
  });

  it('segmenter: loss falls and per-volume Dice is reported', async (t) => {
    const data = writeVisibleTumours(tempDir(t));
    const out = join(tempDir(t), 'run');
    const logs: string[] = [];
    await trainSegmenter(smallSegmenterRun(data, out, (line) => logs.push(line)));
    assert.ok(
      logs.some((l) => /layout channels-last/.test(l)),
      'trains channels-last by default',
    );
    const log = readLog(join(out, 'log.jsonl'));
    assert.ok(
      log[2]!['train_loss']! < log[0]!['train_loss']!,
      `train loss ${log.map((r) => r['train_loss']).join(' → ')}`,
    );
    for (const k of ['val_patient_dice', 'val_slice_dice', 'val_slice_iou', 'val_patient_iou'])
      assert.ok(k in log[0]!, k);
    // The training loss on validation too (bce-dice: BCE ≥ 0 plus soft Dice loss in [0, 1]).
    for (const r of log) assert.ok(Number.isFinite(r['val_loss']) && r['val_loss']! >= 0, `${r['val_loss']}`);
    assert.ok(existsSync(join(out, 'best.safetensors')));
    const config = readModelConfig<{
      network: { features: number };
      postprocess: unknown;
      threshold: number;
    }>(join(out, 'best'));
    assert.equal(config.network.features, 8);
    // Post-processing chosen on validation and saved: a valid config, the table of every candidate beside it.
    const postprocess = parsePostprocessConfig(config.postprocess);
    assert.equal(config.threshold, postprocess.threshold);
    const table = JSON.parse(readFileSync(join(out, 'postprocess-choice.json'), 'utf8'));
    assert.equal(table.candidates.length, 80, '40 grid points × TTA none/flips');
    assert.deepEqual(table.chosen, postprocess);
    const best = Math.max(...table.candidates.map((c: { meanPatientDice: number }) => c.meanPatientDice));
    assert.equal(table.meanPatientDice, best);
  });

  it('segmenter with 2.5-D input: loss falls, the saved model takes the stacked slices and loads', async (t) => {
    const data = writeVisibleTumours(tempDir(t));
    const out = join(tempDir(t), 'run');
    const logs: string[] = [];
    await trainSegmenter({ ...smallSegmenterRun(data, out, (line) => logs.push(line)), neighbours: 1 });
    assert.ok(
      logs.some((l) => /2\.5-D \(1 neighbours each side\)/.test(l)),
      'the log says so',
    );
    const log = readLog(join(out, 'log.jsonl'));
    assert.ok(
      log[2]!['train_loss']! < log[0]!['train_loss']!,
      `train loss ${log.map((r) => r['train_loss']).join(' → ')}`,
    );
    const config = readModelConfig<{ network: { inChannels: number }; preprocess: { neighbours?: number } }>(
      join(out, 'best'),
    );
    assert.equal(config.preprocess.neighbours, 1);
    assert.equal(config.network.inChannels, 9);
    const loaded = loadModel(join(out, 'best'), 'segmenter');
    assert.equal(loaded.preprocess.neighbours, 1);
  });

  it('segmenter in bf16 mixed precision: loss falls, and the run says how it was trained', async (t) => {
    const data = writeVisibleTumours(tempDir(t));
    const out = join(tempDir(t), 'run');
    const logs: string[] = [];
    await trainSegmenter({
      ...smallSegmenterRun(data, out, (line) => logs.push(line)),
      precision: 'bf16',
    });
    assert.ok(
      logs.some((l) => /precision bf16/.test(l)),
      'the log names the precision',
    );
    const log = readLog(join(out, 'log.jsonl'));
    assert.ok(
      log[2]!['train_loss']! < log[0]!['train_loss']!,
      `train loss ${log.map((r) => r['train_loss']).join(' → ')}`,
    );
    const config = readModelConfig<{ training: { precision: string } }>(join(out, 'best'));
    assert.equal(config.training.precision, 'bf16');
  });
});
