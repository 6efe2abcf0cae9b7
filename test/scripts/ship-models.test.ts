// scripts/ship-models.ts for a model trained on every development patient (a split without test patients): it
// ships alone, beside the model already shipped, with its validation figures and no test figures; a split that
// holds test patients is refused without their evaluation; the cross-validation's decision can follow it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readModelSpec } from '../../src/pipeline/load-model.ts';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ship-models-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const models = join(dir, 'models');
mkdirSync(models);
for (const kind of ['classifier', 'segmenter'])
  for (const ext of ['json', 'safetensors'])
    copyFileSync(join(root, 'models', `${kind}.${ext}`), join(models, `${kind}.${ext}`));

/** A training run folder as `train segmenter` leaves it: best.json/.safetensors, log.jsonl, its split. */
function fakeRun(name: string, testPatients: string[]): string {
  const run = join(dir, name);
  mkdirSync(run);
  const shipped = readJson(join(root, 'models', 'segmenter.json'));
  const train = shipped.training.patients.train as string[];
  const val = shipped.training.patients.val as string[];
  const split = {
    version: 1,
    seed: 7,
    kind: 'patient-split',
    splits: {
      train: { patients: train, slices: 2000 },
      val: { patients: val, slices: 300 },
      test: { patients: testPatients, slices: testPatients.length * 30 },
    },
  };
  writeFileSync(join(run, 'split.json'), JSON.stringify(split));
  const { card: _card, fusion: _fusion, postprocessRule: _rule, ...config } = shipped;
  // A run from before training recorded its patients: the split file names them.
  const { patients: _patients, ...training } = config.training;
  config.training = {
    ...training,
    split: join(run, 'split.json'),
    command: `tumorscope train segmenter --out ${run}`,
  };
  config.bestEpoch = 13;
  config.val_patient_dice = 0.7123456;
  config.val_slice_iou = 0.61;
  writeFileSync(join(run, 'best.json'), JSON.stringify(config));
  copyFileSync(join(root, 'models', 'segmenter.safetensors'), join(run, 'best.safetensors'));
  writeFileSync(
    join(run, 'log.jsonl'),
    `${JSON.stringify({ epoch: 1, train_loss: 1, val_patient_dice: 0.5 })}\n`,
  );
  return run;
}

const script = (name: string) => join(root, 'scripts', name);
const shipModels = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', script('ship-models.ts'), '--out', models, ...args], {
    cwd: root,
    encoding: 'utf8',
  });

test('a split with test patients is refused without their evaluation, and nothing is written', () => {
  const before = readFileSync(join(models, 'segmenter.json'), 'utf8');
  const run = fakeRun('with-test', ['TCGA_XX_0000_20000101']);
  const result = shipModels('--segmenter', join(run, 'best'));
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /with-test\/best\.json: its split .* holds 1 test patients: pass --evaluation/);
  assert.equal(readFileSync(join(models, 'segmenter.json'), 'utf8'), before);
});

test('a model trained on every development patient ships alone with its validation figures', () => {
  const classifierBefore = readFileSync(join(models, 'classifier.json'), 'utf8');
  const run = fakeRun('final', []);
  const result = shipModels('--segmenter', join(run, 'best'));
  assert.equal(result.status, 0, result.stderr);
  const segmenter = readJson(join(models, 'segmenter.json'));
  assert.equal(segmenter.card.test, undefined);
  assert.equal(segmenter.card.evaluation, undefined);
  assert.deepEqual(segmenter.card.validation, {
    patients: segmenter.training.patients.val.length,
    bestEpoch: 13,
    val_patient_dice: 0.7123,
    val_slice_iou: 0.61,
  });
  const patients = segmenter.training.patients.train.length + segmenter.training.patients.val.length;
  assert.match(segmenter.card.training.data, new RegExp(`^all ${patients} development patients`));
  const split = readJson(join(run, 'split.json')).splits;
  assert.deepEqual(segmenter.training.patients, { train: split.train.patients, val: split.val.patients });
  assert.ok(!JSON.stringify(segmenter).includes(dir), 'machine paths are made portable');
  assert.deepEqual(
    readFileSync(join(models, 'segmenter.safetensors')),
    readFileSync(join(run, 'best.safetensors')),
  );
  assert.equal(
    readFileSync(join(models, 'segmenter.log.jsonl'), 'utf8'),
    readFileSync(join(run, 'log.jsonl'), 'utf8'),
  );
  // The classifier is left as shipped; its card is rendered again for the pair's decision.
  assert.equal(readFileSync(join(models, 'classifier.json'), 'utf8'), classifierBefore);
  const card = readFileSync(join(models, 'segmenter.md'), 'utf8');
  assert.match(card, /## Validation figures \(optimistic\)/);
  assert.match(card, /patient dice: 0\.7123/);
  assert.doesNotMatch(card, /## Test-split figures/);
  assert.match(card, /no patient was held out of its training/);
  // The classifier's card shows its own figures: its test split's where it had one, else its validation's.
  const classifierCard = JSON.parse(classifierBefore).card as { test?: unknown };
  assert.match(
    readFileSync(join(models, 'classifier.md'), 'utf8'),
    classifierCard.test ? /## Test-split figures/ : /## Validation figures \(optimistic\)/,
  );
  readModelSpec(join(models, 'segmenter'), 'segmenter');
});

test("the cross-validation's decision and figures can be shipped onto it", () => {
  const cv = join(dir, 'cv');
  mkdirSync(cv);
  copyFileSync(join(root, 'models', 'cv', 'split.json'), join(cv, 'split.json'));
  copyFileSync(join(root, 'docs', 'results', 'cv', 'cv-metrics.json'), join(cv, 'cv-metrics.json'));
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      script('ship-cv-choice.ts'),
      '--cv',
      cv,
      '--models',
      models,
      '--command',
      'cv report X',
      '--note',
      'Folds 1, 2 and 4 were trained without this recipe.',
    ],
    { cwd: root, encoding: 'utf8' },
  );
  const segmenter = readJson(join(models, 'segmenter.json'));
  const summary = readJson(join(cv, 'cv-metrics.json'));
  assert.equal(
    segmenter.card.crossValidation.outOfFold.meanPatientDice,
    summary.oof.endToEnd.meanPatientDice,
  );
  assert.deepEqual(segmenter.fusion, summary.config.fusion);
  assert.equal(segmenter.card.test, undefined);
  const card = readFileSync(join(models, 'segmenter.md'), 'utf8');
  assert.match(card, /## Cross-validation/);
  assert.match(card, /## Validation figures \(optimistic\)/);
  assert.equal(segmenter.card.crossValidation.note, 'Folds 1, 2 and 4 were trained without this recipe.');
  assert.match(card, /\*\*Note:\*\* Folds 1, 2 and 4 were trained without this recipe\./);
});
