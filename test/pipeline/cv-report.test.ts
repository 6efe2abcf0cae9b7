// `tumorscope cv report` on a small synthetic CV folder: a 3-fold split of the visible-tumour dataset whose
// folds 0 and 1 have out-of-fold outputs (written here by hand, no network runs) and training logs, and whose
// fold 2 is still training. report.html holds the folds' figures from cv-metrics.json, every OOF patient, the
// fold that is missing and every fold's curves; cv-curves.json holds the classifier's ROC over the OOF slices;
// `cv collect` keeps the report; a summary made from other OOF outputs is refused rather than drawn.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { institutionOf, scanDataset } from '../../src/data/dataset-index.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import { cvCurvesJsonSchema } from '../../src/eval/cv-summary.ts';
import { formatMetric } from '../../src/eval/report/page.ts';
import { rocAuc } from '../../src/metrics/roc.ts';
import { cvMetrics, cvMetricsPath, loadOofPatients, readCvMetrics } from '../../src/pipeline/cv-report.ts';
import { collectCv, ensureCvSplit, stageDir } from '../../src/train/cross-validation.ts';
import { repoRoot, tempDir } from '../data/fixtures.ts';
import { IMAGE_SIZE, writeVisibleTumours } from '../helpers/visible-tumours.ts';

const quiet = () => {};
const SMALL_GRID = {
  tta: ['none'] as 'none'[],
  pixelThresholds: [0.3, 0.5],
  minComponentAreas: [0, 16],
  sliceRadii: [0, 1],
  detectionThresholds: [0, 0.5],
};

const writeJson = (path: string, value: unknown) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
};
const logLines = (epochs: number) =>
  Array.from({ length: epochs }, (_, e) =>
    JSON.stringify({ epoch: e + 1, seconds: 60, train_loss: 1 / (e + 1), val_loss: 1.1 / (e + 1) }),
  ).join('\n');

describe('cv report', () => {
  it('writes report.html and cv-curves.json for the finished folds and names the missing one', async (t) => {
    const data = writeVisibleTumours(tempDir(t));
    const cvDir = join(tempDir(t), 'cv');
    const manifest = await ensureCvSplit({ data, cvDir, folds: 3, seed: 3, valFraction: 0.2, log: quiet });
    const cache = await loadSlices(scanDataset(data), { width: IMAGE_SIZE, height: IMAGE_SIZE });
    const px = IMAGE_SIZE * IMAGE_SIZE;
    const scores: number[] = [];
    const labels: number[] = [];
    for (const fold of [0, 1]) {
      const oof = join(cvDir, `fold-${fold}`, 'oof');
      const classifier = [];
      const segmenter = [];
      for (const id of manifest.folds[fold]!.test.patients) {
        const rows = cache.slices.flatMap((s, i) => (s.patientId === id ? [i] : []));
        const slices = rows.map((i) => cache.slices[i]!.sliceNumber);
        const truth = rows.map((i) => cache.masks!.subarray(i * px, (i + 1) * px));
        const tumour = truth.map((m) => (m.some((v) => v !== 0) ? 1 : 0));
        // The classifier is unsure on the first slice of each patient; the segmenter finds the tumour, a
        // little of it in fold 1.
        const p = tumour.map((y, k) => (k === 0 ? 0.55 : y === 1 ? 0.8 - 0.01 * k : 0.1 + 0.01 * k));
        scores.push(...p);
        labels.push(...tumour);
        classifier.push({ id, slices, p });
        segmenter.push({ id, slices });
        const probs = new Uint8Array(slices.length * px);
        truth.forEach((m, k) => {
          m.forEach((v, i) => {
            if (v !== 0 && (fold === 0 || i % 2 === 0)) probs[k * px + i] = 230;
          });
        });
        mkdirSync(join(oof, 'segmenter'), { recursive: true });
        writeFileSync(join(oof, 'segmenter', `${id}.none.u8.gz`), gzipSync(probs));
      }
      writeJson(join(oof, 'classifier.json'), { fold, model: 'test', patients: classifier });
      writeJson(join(oof, 'segmenter.json'), {
        fold,
        model: 'test',
        width: IMAGE_SIZE,
        height: IMAGE_SIZE,
        encoding: 'uint8 round(255 p), D×H×W, gzip',
        tta: ['none'],
        patients: segmenter,
      });
      // Logs without models or finished.json: the report reads the logs and OOF outputs only (and `cv collect`
      // then has no model to copy).
      for (const stage of ['segmenter', 'classifier'] as const) {
        mkdirSync(stageDir(cvDir, fold, stage), { recursive: true });
        writeFileSync(join(stageDir(cvDir, fold, stage), 'log.jsonl'), logLines(4));
      }
    }
    // Fold 2's segmenter is two epochs in; its classifier has not started.
    mkdirSync(stageDir(cvDir, 2, 'segmenter'), { recursive: true });
    writeFileSync(join(stageDir(cvDir, 2, 'segmenter'), 'log.jsonl'), logLines(2));

    const patients = await loadOofPatients({ data, cvDir, folds: 3, log: quiet });
    const metrics = cvMetrics(patients, { grid: SMALL_GRID, log: quiet });
    writeFileSync(cvMetricsPath(cvDir), JSON.stringify(metrics));
    const stdout = execFileSync(
      process.execPath,
      [
        join(repoRoot, 'bin', 'tumorscope.js'),
        'cv',
        'report',
        '--data',
        data,
        '--out',
        cvDir,
        '--reuse-metrics',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    assert.ok(stdout.includes(join(cvDir, 'report.html')), stdout);
    const html = readFileSync(join(cvDir, 'report.html'), 'utf8');

    const cell = (v: string) => `<td>${v}</td>`;
    for (const f of metrics.folds) {
      const c = f.classification;
      const cells = [`fold ${f.fold}`, String(f.patients), c.accuracy, c.auc, c.recall, c.specificity]
        .map((v) => (typeof v === 'string' ? v : formatMetric(v)))
        .concat([formatMetric(f.endToEnd.meanPatientDice), formatMetric(f.endToEnd.medianPatientDice)]);
      assert.ok(html.includes(`<tr>${cells.map(cell).join('')}</tr>`), `fold ${f.fold}'s row`);
    }
    assert.match(html, /Not yet in this report: fold 2</);
    assert.ok(
      html.includes('fold 2 (segmenter training (2 epochs logged); no classifier training log here)'),
    );
    const held = [0, 1].flatMap((f) => manifest.folds[f]!.test.patients.map((id) => ({ id, fold: f })));
    assert.equal(metrics.oof.endToEnd.perPatient.length, held.length);
    for (const { id, fold } of held)
      assert.match(
        html,
        new RegExp(`<tr><td>${id}</td><td>${institutionOf(id)}</td><td>${fold}</td><td>\\d\\.\\d{3}</td>`),
      );
    const training = html.slice(html.indexOf('id="figure-training-segmenter"'));
    for (const fold of ['fold 0', 'fold 1', 'fold 2']) assert.ok(training.includes(`>${fold}<`), fold);
    for (const figure of ['roc', 'confusion-two-stage', 'confusion-classifier', 'patient-dice'])
      assert.ok(existsSync(join(cvDir, 'figures', `${figure}.png`)), figure);

    const curves = cvCurvesJsonSchema.parse(JSON.parse(readFileSync(join(cvDir, 'cv-curves.json'), 'utf8')));
    assert.equal(curves.classifierAlone?.auc, rocAuc(scores, labels));

    // What is committed keeps the report with its summary.
    const kept = join(tempDir(t), 'kept');
    collectCv(cvDir, kept, 3);
    assert.equal(readFileSync(join(kept, 'report.html'), 'utf8'), html);
    assert.ok(existsSync(join(kept, 'cv-curves.json')));

    assert.throws(
      () => readCvMetrics(cvDir, patients.slice(1)),
      (err: Error) => err.message.startsWith(cvMetricsPath(cvDir)) && /other OOF outputs/.test(err.message),
    );
  });
});
