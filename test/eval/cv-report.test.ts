// The cross-validation report from a hand-made summary of a 3-fold run with folds 0 and 2 finished and fold 1
// still training: the per-fold table holds each fold's figures and their mean ± sd (worked out by hand here),
// the missing fold is named with its state, every OOF patient has a row with its institution and fold, and the
// figures (ROC, confusion matrices, per-patient Dice, every fold's training curves) are in the page.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildRocJson } from '../../src/eval/curves-json.ts';
import type { CvCurvesJson, CvSummary, FoldProgress } from '../../src/eval/cv-summary.ts';
import {
  buildCvReportFigures,
  type CvReportInput,
  type FoldTrainingLog,
  renderCvReportHtml,
} from '../../src/eval/report/cv-html.ts';
import { DISCLAIMER, escapeHtml } from '../../src/eval/report/page.ts';

const choice = (detector: 'classifier' | 'segmenter' | 'mean', threshold: number) => ({
  segmenter: { tta: 'none' as const, threshold: 0.5, minComponentArea: 16 },
  fusion: { detector, sliceRadius: 1, threshold },
  largest3DComponent: true,
});

const slices = (accuracy: number) => ({
  accuracy,
  precision: 0.75,
  recall: 0.7,
  specificity: 0.9,
  f1: 0.72,
  auc: 0.95,
  threshold: 0.4,
  confusion: { tp: 70, fp: 23, tn: 207, fn: 30 },
});

const perPatient = [
  { id: 'TCGA_CS_0001_20000101', fold: 0, dice: 0.5, iou: 0.33 },
  { id: 'TCGA_DU_0002_20000101', fold: 0, dice: 0.7, iou: 0.54 },
  { id: 'TCGA_HT_0003_20000101', fold: 2, dice: 0.9, iou: 0.82 },
  { id: 'TCGA_FG_0004_20000101', fold: 2, dice: 0.7, iou: 0.54 },
];

const summary: CvSummary = {
  patients: 4,
  folds: [
    {
      fold: 0,
      patients: 2,
      classification: { accuracy: 0.9, auc: 0.96, recall: 0.8, specificity: 0.95 },
      classifierAlone: { accuracy: 0.85, auc: 0.91, recall: 0.75, specificity: 0.9 },
      endToEnd: { meanPatientDice: 0.6, medianPatientDice: 0.6 },
      chosenOnOtherFolds: choice('mean', 0.45),
    },
    {
      fold: 2,
      patients: 2,
      classification: { accuracy: 0.8, auc: 0.92, recall: 0.6, specificity: 0.85 },
      classifierAlone: { accuracy: 0.75, auc: 0.87, recall: 0.65, specificity: 0.8 },
      endToEnd: { meanPatientDice: 0.8, medianPatientDice: 0.8 },
      chosenOnOtherFolds: choice('segmenter', 0.35),
    },
  ],
  oof: {
    classification: { ...slices(0.85), threshold: [0.45, 0.35] },
    classifierAlone: slices(0.8),
    endToEnd: { meanPatientDice: 0.7, medianPatientDice: 0.7, meanPatientIoU: 0.56, perPatient },
    chosenOnAll: {
      classification: slices(0.87),
      endToEnd: { meanPatientDice: 0.72, medianPatientDice: 0.7, meanPatientIoU: 0.57 },
    },
  },
  families: [
    {
      family: 'classifier gate (reference design)',
      chosenOnAll: { meanPatientDice: 0.66, medianPatientDice: 0.65, candidate: choice('classifier', 0.2) },
      nested: { meanPatientDice: 0.64, medianPatientDice: 0.63, meanPatientIoU: 0.5 },
    },
  ],
  config: choice('mean', 0.4),
  candidatesScored: 123,
};

const labels = [0, 0, 1, 1, 0, 1];
const curves: CvCurvesJson = {
  about: 'test',
  classifierAlone: buildRocJson([0.1, 0.6, 0.4, 0.9, 0.2, 0.8], labels),
  twoStage: buildRocJson([0.1, 0.3, 0.7, 0.9, 0.2, 0.8], labels),
};

const stage = (finished: boolean, epochsLogged: number) => ({ finished, epochsLogged, oof: finished });
const progress: FoldProgress[] = [
  { fold: 0, heldOut: 2, segmenter: stage(true, 3), classifier: stage(true, 2) },
  { fold: 1, heldOut: 2, segmenter: stage(false, 3), classifier: stage(false, 0) },
  { fold: 2, heldOut: 2, segmenter: stage(true, 3), classifier: stage(true, 2) },
];

const log = (epochs: number, seconds: number) =>
  Array.from({ length: epochs }, (_, e) => ({
    epoch: e + 1,
    seconds,
    train_loss: 1 / (e + 1),
    val_loss: 1.2 / (e + 1),
    val_patient_dice: 0.3 + 0.1 * e,
  }));
const trainingLogs: FoldTrainingLog[] = [
  { fold: 0, stage: 'segmenter', records: log(3, 1200) },
  { fold: 0, stage: 'classifier', records: log(2, 600) },
  { fold: 1, stage: 'segmenter', records: log(3, 1800) },
  { fold: 2, stage: 'segmenter', records: log(3, 1200) },
  { fold: 2, stage: 'classifier', records: log(2, 900) },
];

const row = (cells: readonly string[]) =>
  `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;

describe('cross-validation report.html', () => {
  const input: CvReportInput = { summary, curves, progress, trainingLogs };
  let html: string;
  before(async () => {
    html = renderCvReportHtml(input, await buildCvReportFigures(input));
  });

  it('has the per-fold table with each fold, and mean ± sd over the folds', () => {
    assert.ok(html.includes(row(['fold 0', '2', '0.900', '0.960', '0.800', '0.950', '0.600', '0.600'])));
    assert.ok(html.includes(row(['fold 2', '2', '0.800', '0.920', '0.600', '0.850', '0.800', '0.800'])));
    // Two folds: mean (a+b)/2, sample sd |a−b|/√2.
    assert.ok(
      html.includes(
        row([
          'mean ± sd (2 folds)',
          '4',
          '0.850 ± 0.071',
          '0.940 ± 0.028',
          '0.700 ± 0.141',
          '0.900 ± 0.071',
          '0.700 ± 0.141',
          '0.700 ± 0.141',
        ]),
      ),
    );
    assert.ok(
      html.includes(
        row(['mean ± sd (2 folds)', '0.800 ± 0.071', '0.890 ± 0.028', '0.700 ± 0.071', '0.850 ± 0.071']),
      ),
    );
  });

  it('names the fold that is not in yet, with how far it has got', () => {
    assert.match(html, /Not yet in this report: fold 1</);
    assert.ok(
      html.includes('fold 1 (segmenter training (3 epochs logged); no classifier training log here)'),
      'the missing fold and its state',
    );
    assert.match(html, /2 of 3 folds in this report/);
  });

  it('lists every OOF patient with institution, fold and Dice, best first', () => {
    const rows = [
      ['TCGA_HT_0003_20000101', 'HT', '2', '0.900', '0.820'],
      ['TCGA_DU_0002_20000101', 'DU', '0', '0.700', '0.540'],
      ['TCGA_FG_0004_20000101', 'FG', '2', '0.700', '0.540'],
      ['TCGA_CS_0001_20000101', 'CS', '0', '0.500', '0.330'],
    ].map(row);
    const at = rows.map((r) => html.indexOf(r));
    assert.ok(
      at.every((i) => i >= 0),
      'every patient has its row',
    );
    assert.deepEqual(
      [...at].sort((a, b) => a - b),
      at,
      'sorted by Dice, ties by id',
    );
  });

  it('shows the chosen configuration, each fold’s choice and the nested estimate against chosen-on-all', () => {
    assert.ok(
      html.includes(row(['all OOF patients (shipped)', 'mean', '1', '0.400', 'none', '0.500', '16', 'yes'])),
    );
    assert.ok(
      html.includes(row(['the folds other than 2', 'segmenter', '1', '0.350', 'none', '0.500', '16', 'yes'])),
    );
    assert.ok(html.includes(row(['Dice per patient volume, mean (primary)', '0.700', '0.720'])));
    assert.ok(html.includes('<td>two-stage detection, nested</td>'));
    assert.ok(html.includes('<td>0.450 / 0.350</td>'), "each fold's detection threshold");
  });

  it('draws the OOF ROC curves, both confusion matrices, and every fold’s training curves', () => {
    for (const name of [
      'roc',
      'confusion-two-stage',
      'confusion-classifier',
      'patient-dice',
      'training-segmenter',
      'training-classifier',
    ])
      assert.match(html, new RegExp(`<figure class="plot" id="figure-${name}"><svg`), name);
    const roc = html.slice(
      html.indexOf('id="figure-roc"'),
      html.indexOf('</figure>', html.indexOf('id="figure-roc"')),
    );
    assert.ok(roc.includes(`classifier alone (AUC ${curves.classifierAlone!.auc!.toFixed(3)})`));
    assert.ok(roc.includes(`two-stage detection (AUC ${curves.twoStage.auc!.toFixed(3)})`));
    const segmenterCurves = html.slice(
      html.indexOf('id="figure-training-segmenter"'),
      html.indexOf('</figure>', html.indexOf('id="figure-training-segmenter"')),
    );
    for (const fold of ['fold 0', 'fold 1', 'fold 2']) assert.ok(segmenterCurves.includes(`>${fold}<`), fold);
    // Hours of training per fold and stage, from the logs' seconds.
    assert.ok(html.includes(row(['fold 1', 'segmenter', '3', '1.50'])));
    assert.ok(html.includes(row(['fold 2', 'classifier', '2', '0.50'])));
  });

  it('is self-contained and carries the research-tool notice', () => {
    assert.ok(html.includes(`<p class="disclaimer">${escapeHtml(DISCLAIMER)}</p>`));
    assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    assert.doesNotMatch(html, /<script|<link|@import/i);
    // Inline SVGs share one id space: no id may appear twice.
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('with one fold and no classifier outputs yet: sd n/a, the classifier-alone parts say so', async () => {
    const one: CvReportInput = {
      summary: {
        ...summary,
        folds: [{ ...summary.folds[0]!, classifierAlone: null }],
        oof: { ...summary.oof, classifierAlone: null },
      },
      curves: { ...curves, classifierAlone: null },
      progress,
      trainingLogs: [],
    };
    const page = renderCvReportHtml(one, await buildCvReportFigures(one));
    assert.ok(page.includes('<td>0.900 ± n/a</td>'));
    assert.ok(page.includes(row(['fold 0', 'n/a', 'n/a', 'n/a', 'n/a'])));
    assert.ok(page.includes('No classifier outputs yet.'));
    assert.ok(page.includes('No segmenter training log.'));
    assert.match(page, /Not yet in this report: fold 1, fold 2</);
  });
});
