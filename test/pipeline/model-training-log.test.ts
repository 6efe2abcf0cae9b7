// A model's training log is found beside its weights in both layouts the project uses: shipped models named by
// kind in one folder (models/segmenter.log.jsonl) and training runs (runs/x/log.jsonl beside runs/x/best,
// models/cv/fold-k/<stage>/). The committed logs belong to the committed models: the epoch a model was saved
// at has the validation score its config records.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readModelTrainingLog } from '../../src/pipeline/model-training-log.ts';
import { repoRoot, tempDir } from '../data/fixtures.ts';

const line = (epoch: number, loss: number) =>
  `${JSON.stringify({ epoch, train_loss: loss, val_loss: loss })}\n`;
const quiet = () => {};
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe('model training logs', () => {
  it('finds <name>.log.jsonl for a shipped model, and no log for its neighbour that ships none', (t) => {
    const models = tempDir(t);
    writeFileSync(join(models, 'classifier.log.jsonl'), line(1, 0.5) + line(2, 0.4));
    assert.deepEqual(
      readModelTrainingLog(join(models, 'classifier'), quiet)?.map((r) => r['epoch']),
      [1, 2],
    );
    assert.equal(readModelTrainingLog(join(models, 'segmenter'), quiet), undefined);
  });

  it("finds a run's log.jsonl beside best, and prefers the model's own log when both are there", (t) => {
    const run = tempDir(t);
    writeFileSync(join(run, 'log.jsonl'), line(1, 0.9) + line(2, 0.8) + line(3, 0.7));
    assert.equal(readModelTrainingLog(join(run, 'best'), quiet)?.length, 3);
    writeFileSync(join(run, 'best.log.jsonl'), line(1, 0.1));
    assert.equal(readModelTrainingLog(join(run, 'best'), quiet)?.length, 1);
  });

  it('leaves a damaged log out with a warning naming it', (t) => {
    const run = tempDir(t);
    writeFileSync(join(run, 'log.jsonl'), `${line(1, 0.5)}{not json\n`);
    const warnings: string[] = [];
    assert.equal(
      readModelTrainingLog(join(run, 'best'), (w) => warnings.push(w)),
      undefined,
    );
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(join(run, 'log.jsonl')), warnings[0]);
    assert.match(warnings[0]!, /line 2/);
  });

  it("the shipped segmenter's log reaches its best epoch with the validation Dice its config records", () => {
    const base = join(repoRoot, 'models', 'segmenter');
    const config = readJson(`${base}.json`);
    const records = readModelTrainingLog(base, quiet);
    assert.ok(records, 'models/segmenter.log.jsonl');
    const best = records.find((r) => r['epoch'] === config['bestEpoch']);
    assert.equal(best?.['val_patient_dice'], config['val_patient_dice']);
  });

  it("every committed CV fold model has its run's log: as many epochs as it ran, its best score at its best epoch", () => {
    const cv = join(repoRoot, 'models', 'cv');
    const folds = readdirSync(cv).filter((f) => /^fold-\d+$/.test(f));
    assert.ok(folds.length > 0);
    for (const fold of folds)
      for (const stage of ['segmenter', 'classifier']) {
        const dir = join(cv, fold, stage);
        if (!existsSync(join(dir, 'finished.json'))) continue;
        const finished = readJson(join(dir, 'finished.json'));
        const records = readModelTrainingLog(join(dir, 'best'), quiet);
        assert.ok(records, `${fold}/${stage}: no log`);
        assert.equal(new Set(records.map((r) => r['epoch'])).size, finished['epochsRun'], `${fold}/${stage}`);
        const best = records.find((r) => r['epoch'] === finished['bestEpoch'])!;
        assert.ok(
          Object.values(best).includes(finished['bestScore']),
          `${fold}/${stage}: best score ${finished['bestScore']} not at epoch ${finished['bestEpoch']}`,
        );
      }
  });
});
