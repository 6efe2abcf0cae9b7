// Which patients a saved model learnt from, so that `evaluate` warns when it scores them: from the list training
// saves in the config, else from the split manifest the config names (as written, or found beside the model or
// above it, as runs/NAME/split.json and models/cv/split.json lie); the shipped models and the committed CV folds
// included. And evaluate reads a kaggle_3m folder without data.csv when asked (the CLI's --no-metadata).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readModelConfig } from '../../src/engine/index.ts';
import { SHIPPED_MODELS } from '../../src/pipeline/default-models.ts';
import { loadEvaluationData } from '../../src/pipeline/evaluation-data.ts';
import { modelSplit, trainedOnWarning } from '../../src/pipeline/model-split.ts';
import { repoRoot, tempDir, writeKaggleFolder } from '../data/fixtures.ts';

const manifest = (train: string[], val: string[], test: string[]) => ({
  version: 1,
  dataset: 'path/to/kaggle_3m',
  seed: 0,
  stratifiedBy: 'institution',
  kind: 'patient-split',
  fractions: { train: 0.7, val: 0.15, test: 0.15 },
  splits: Object.fromEntries(
    Object.entries({ train, val, test }).map(([name, patients]) => [
      name,
      { patients, slices: patients.length, positives: 0, institutions: { CS: patients.length } },
    ]),
  ),
});

describe('the patients a model learnt from', () => {
  it('come from the config when training listed them', () => {
    const split = modelSplit('runs/x/best', {
      training: { split: 'gone.json', patients: { train: ['A', 'B'], val: ['C'] } },
    });
    assert.deepEqual([...split!.patients].sort(), ['A', 'B', 'C']);
    assert.equal(split!.source, 'runs/x/best.json');
  });

  it('come from the manifest beside the model or above it when the config only names it', (t) => {
    const root = tempDir(t);
    mkdirSync(join(root, 'runs', 'seg'), { recursive: true });
    writeFileSync(join(root, 'runs', 'seg', 'split.json'), JSON.stringify(manifest(['A'], ['B'], ['T'])));
    // Written from another working directory: not found as written, found beside the model.
    const beside = modelSplit(join(root, 'runs', 'seg', 'best'), {
      training: { split: 'runs/seg/split.json' },
    });
    assert.deepEqual([...beside!.patients].sort(), ['A', 'B']);
    assert.equal(beside!.source, join(root, 'runs', 'seg', 'split.json'));
    const above = modelSplit(join(root, 'runs', 'seg', 'fold-0', 'segmenter', 'best'), {
      training: { split: 'elsewhere/split.json' },
    });
    assert.deepEqual([...above!.patients].sort(), ['A', 'B']);
    assert.equal(modelSplit(join(root, 'best'), { training: { split: 'nowhere/other.json' } }), undefined);
    assert.equal(modelSplit(join(root, 'best'), {}), undefined);
  });

  it('are known for the shipped models and for every committed CV fold (its own fold of models/cv/split.json)', () => {
    const examples = 'TCGA_DU_8167_19970402'; // the example slices' patient, one of the 80
    // Both shipped models trained on every development patient (68 training + 12 validation).
    for (const kind of ['classifier', 'segmenter'] as const) {
      const split = modelSplit(SHIPPED_MODELS[kind], readModelConfig(SHIPPED_MODELS[kind]))!;
      assert.equal(split.patients.size, 80, `${kind}: 68 training + 12 validation patients`);
      for (const id of [examples, 'TCGA_CS_4941_19960909'])
        assert.ok(split.patients.has(id), `${kind}: ${id}`);
    }
    const cv = JSON.parse(readFileSync(join(repoRoot, 'models', 'cv', 'split.json'), 'utf8')) as {
      folds: { test: { patients: string[] } }[];
    };
    for (const fold of [0, 1, 2, 3]) {
      const base = join(repoRoot, 'models', 'cv', `fold-${fold}`, 'segmenter', 'best');
      const split = modelSplit(base, readModelConfig(base))!;
      assert.equal(split.source, join(repoRoot, 'models', 'cv', 'split.json'));
      for (const id of cv.folds[fold]!.test.patients) assert.ok(!split.patients.has(id), `${id} held out`);
      assert.equal(split.patients.size, 80 - cv.folds[fold]!.test.patients.length);
    }
  });

  it('make a warning that names them, and none when no evaluated patient is among them', () => {
    const split = { source: 'm.json', patients: new Set(['A', 'B', 'C', 'D']) };
    assert.equal(trainedOnWarning('segmenter', split, ['T1', 'T2']), undefined);
    assert.equal(trainedOnWarning('segmenter', undefined, ['A']), undefined);
    assert.equal(
      trainedOnWarning('classifier', split, ['A', 'T1', 'B', 'C', 'D']),
      "4 of the 5 evaluated patients (A, B, C, …) are in the classifier's training or validation split (m.json): its figures on them are not a held-out estimate",
    );
  });
});

describe('evaluation data without data.csv', () => {
  it('is refused by default for TCGA patients, naming the file, and read with requireMetadata: false', async (t) => {
    const root = writeKaggleFolder(
      tempDir(t),
      [{ id: 'TCGA_CS_0001_20000101', slices: 2, tumour: [1] }],
      false,
    );
    const o = { data: root, subset: 'test' as const, sizes: [{ width: 16, height: 16 }], log: () => {} };
    await assert.rejects(loadEvaluationData(o), (err: Error) =>
      err.message.startsWith(join(root, 'data.csv')),
    );
    const data = await loadEvaluationData({ ...o, requireMetadata: false });
    assert.equal(data.indices.length, 2);
  });
});
