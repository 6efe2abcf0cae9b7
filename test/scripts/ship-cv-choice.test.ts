// scripts/ship-cv-choice.ts on a copy of the shipped configs: the decision a cross-validation chose lands in the
// segmenter's config (where the two-stage core reads it) and its figures in both cards; running it again keeps
// the note on what the test-split figures were measured with.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readModelSpec } from '../../src/pipeline/load-model.ts';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ship-cv-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const models = join(dir, 'models');
const cv = join(dir, 'cv');
mkdirSync(models);
mkdirSync(cv);
// The shipped configs as ship-models writes them for a pair with a test split, deciding by the reference gate
// (whatever is shipped today), so that the note on what the test figures were measured with is written afresh.
const testFigures = {
  classifier: { accuracy: 0.9, auc: 0.95, confusion: { tp: 1, fp: 2, tn: 3, fn: 4 } },
  segmenter: {
    endToEnd: { meanPatientDice: 0.81, medianPatientDice: 0.86, meanPatientIoU: 0.7 },
    postprocessSteps: [
      { step: 'threshold', meanPatientDice: 0.8, medianPatientDice: 0.85, meanSliceDice: 0.7 },
    ],
  },
};
const evaluation = { command: 'tumorscope evaluate X', commit: 'def456', split: 'test split of split.json' };
for (const kind of ['classifier', 'segmenter'] as const) {
  const config = JSON.parse(readFileSync(join(root, 'models', `${kind}.json`), 'utf8'));
  const { crossValidation: _cv, role: _role, ...card } = config.card;
  config.card = { ...card, evaluation, test: testFigures[kind] };
  if (kind === 'segmenter') config.fusion = { detector: 'classifier', sliceRadius: 0, threshold: 0.4 };
  writeFileSync(join(models, `${kind}.json`), JSON.stringify(config));
  // The weights are only read by the loader at the end, which checks their shapes against the config.
  copyFileSync(join(root, 'models', `${kind}.safetensors`), join(models, `${kind}.safetensors`));
}
copyFileSync(join(root, 'models', 'cv', 'split.json'), join(cv, 'split.json'));

// The committed CV summary, with a decision unlike the shipped one in every field, so that each must be copied.
const summary = JSON.parse(readFileSync(join(root, 'docs', 'results', 'cv', 'cv-metrics.json'), 'utf8'));
const chosen = {
  segmenter: { tta: 'flips', threshold: 0.45, minComponentArea: 12 },
  fusion: { detector: 'mean', sliceRadius: 1, threshold: 0.35 },
  largest3DComponent: false,
};
writeFileSync(join(cv, 'cv-metrics.json'), JSON.stringify({ ...summary, commit: 'abc123', config: chosen }));

const ship = () =>
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'scripts', 'ship-cv-choice.ts'),
      '--cv',
      cv,
      '--models',
      models,
      '--command',
      'cv report X',
      '--fold-models',
      'models/cv-elsewhere',
    ],
    { cwd: root, encoding: 'utf8' },
  );
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

test('the chosen decision is what the segmenter config carries, and the loader accepts it', () => {
  const shippedBefore = readJson(join(models, 'segmenter.json'));
  ship();
  const segmenter = readJson(join(models, 'segmenter.json'));
  assert.deepEqual(segmenter.fusion, chosen.fusion);
  assert.deepEqual(segmenter.postprocess, {
    threshold: 0.45,
    minComponentArea: 12,
    largest3DComponent: false,
    tta: 'flips',
  });
  assert.equal(segmenter.threshold, 0.45);
  assert.match(segmenter.postprocessRule, new RegExp(`${summary.patients} cross-validation patients`));
  // Weights, network and the test-split figures are left as they were.
  assert.deepEqual(segmenter.network, shippedBefore.network);
  assert.deepEqual(segmenter.card.test.endToEnd, shippedBefore.card.test.endToEnd);
  const spec = readModelSpec(join(models, 'segmenter'), 'segmenter') as { fusion?: unknown };
  assert.deepEqual(spec.fusion, chosen.fusion);
});

test("both cards carry the CV's figures and say what the test split was measured with", () => {
  for (const kind of ['classifier', 'segmenter']) {
    const card = readJson(join(models, `${kind}.json`)).card;
    const c = card.crossValidation;
    assert.equal(c.patients, summary.patients);
    assert.equal(c.commit, 'abc123');
    assert.match(c.weights, /best\.json under models\/cv-elsewhere\)/, 'where the fold models are');
    assert.equal(c.outOfFold.meanPatientDice, summary.oof.endToEnd.meanPatientDice);
    const dice = summary.folds.map(
      (f: { endToEnd: { meanPatientDice: number } }) => f.endToEnd.meanPatientDice,
    );
    const mean = dice.reduce((a: number, b: number) => a + b, 0) / dice.length;
    assert.ok(Math.abs(c.overFolds.meanPatientDice.mean - mean) < 1e-12);
    assert.ok(c.overFolds.meanPatientDice.sd > 0);
    assert.match(card.test.note, /classifier's P\(tumour\) ≥/);
    const markdown = readFileSync(join(models, `${kind}.md`), 'utf8');
    assert.match(markdown, /## Cross-validation/);
    assert.match(
      markdown,
      new RegExp(`${(100 * mean).toFixed(1)}% ± ${(100 * c.overFolds.meanPatientDice.sd).toFixed(1)}`),
    );
    assert.match(markdown, /averaged over ±1 neighbouring slices|±1 slices/);
    if (kind === 'classifier') assert.match(card.role, /half of the fused score/);
  }
});

test('a second run keeps the note about the decision shipped before', () => {
  const note = readJson(join(models, 'segmenter.json')).card.test.note;
  ship();
  assert.equal(readJson(join(models, 'segmenter.json')).card.test.note, note);
  assert.match(note, /reference gate/);
});
