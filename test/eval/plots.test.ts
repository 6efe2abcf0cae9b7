import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { buildCurvesJson } from '../../src/eval/curves-json.ts';
import { buildMetricsJson } from '../../src/eval/metrics-json.ts';
import { confusionMatrixFigure } from '../../src/eval/plots/confusion.ts';
import { patientDiceFigure } from '../../src/eval/plots/patient-dice.ts';
import { precisionRecallFigure } from '../../src/eval/plots/precision-recall.ts';
import type { Figure } from '../../src/eval/plots/render.ts';
import { rocComparisonFigure, rocFigure } from '../../src/eval/plots/roc.ts';
import { runsTrainingCurvesFigure, trainingCurvesFigure } from '../../src/eval/plots/training.ts';
import { handRecords, randomRecords, testModels } from './fixtures.ts';

/** The SVG parses (librsvg through sharp, not the resvg that drew the PNG) and the PNG is a real PNG of twice its size. */
async function assertValidFigure(figure: Figure): Promise<void> {
  assert.match(figure.svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(figure.svg, /<\/svg>\s*$/);
  const width = Number(/<svg [^>]*width="(\d+(?:\.\d+)?)"/.exec(figure.svg)![1]);
  const height = Number(/<svg [^>]*height="(\d+(?:\.\d+)?)"/.exec(figure.svg)![1]);
  const svgMeta = await sharp(Buffer.from(figure.svg)).metadata();
  assert.equal(svgMeta.format, 'svg');
  assert.deepEqual([...figure.png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(figure.png.buffer, figure.png.byteOffset, figure.png.byteLength);
  assert.equal(new TextDecoder().decode(figure.png.subarray(12, 16)), 'IHDR');
  assert.equal(view.getUint32(16), Math.ceil(width * 2));
  assert.equal(view.getUint32(20), Math.ceil(height * 2));
  const pngMeta = await sharp(figure.png).metadata();
  assert.equal(pngMeta.format, 'png');
  assert.equal(pngMeta.width, view.getUint32(16));
  // not a blank image: a chart has more than one colour
  const stats = await sharp(figure.png).stats();
  assert.ok(
    stats.channels.some((c) => c.min !== c.max),
    'the PNG is one flat colour',
  );
}

const records = randomRecords(8, 24, 11);
const metrics = buildMetricsJson({
  slices: records,
  threshold: 0.5,
  models: testModels,
  commit: null,
  seed: 1,
  timings: {},
});
const curves = buildCurvesJson(records);

describe('figures', () => {
  it('ROC curve: valid SVG and PNG, AUC in the title', async () => {
    const figure = await rocFigure(curves.roc.points, curves.roc.auc, { fpr: 0.2, tpr: 0.8 });
    await assertValidFigure(figure);
    assert.ok(figure.svg.includes(`ROC curve (AUC = ${curves.roc.auc!.toFixed(3)})`));
  });
  it('ROC curve of a single-class set says the AUC is undefined', async () => {
    const single = buildCurvesJson(handRecords.filter((r) => r.trueLabel === 0));
    const figure = await rocFigure(single.roc.points, single.roc.auc);
    assert.ok(figure.svg.includes('AUC = undefined'));
  });
  it('precision-recall curve: valid, AP in the title', async () => {
    const pr = curves.precisionRecall;
    const figure = await precisionRecallFigure(pr.points, pr.averagePrecision, pr.baseline);
    await assertValidFigure(figure);
    assert.ok(figure.svg.includes(`AP = ${pr.averagePrecision!.toFixed(3)}`));
  });
  it('confusion matrix: valid, with the four counts written in the cells', async () => {
    const figure = await confusionMatrixFigure({ tp: 123, fp: 45, tn: 678, fn: 9 }, 0.42);
    await assertValidFigure(figure);
    for (const n of [123, 45, 678, 9]) assert.match(figure.svg, new RegExp(`<text[^>]*>${n}</text>`));
    assert.ok(figure.svg.includes('threshold 0.420'));
  });
  it('training curves: one panel per metric, train and validation', async () => {
    const log = Array.from({ length: 6 }, (_, e) => ({
      epoch: e + 1,
      train_loss: 1 / (e + 1),
      train_dice: 0.5 + e * 0.05,
      val_loss: 1.3 / (e + 1),
      val_dice: 0.45 + e * 0.04,
    }));
    const figure = await trainingCurvesFigure(log, 'Segmenter training');
    assert.ok(figure !== null);
    await assertValidFigure(figure);
    for (const text of ['Segmenter training', 'loss', 'dice', 'train', 'validation']) {
      assert.match(figure.svg, new RegExp(`>${text}</text>`));
    }
  });
  it('training curves: null for an empty or epoch-less log', async () => {
    assert.equal(await trainingCurvesFigure([], 'x'), null);
    assert.equal(await trainingCurvesFigure([{ step: 3, loss: 0.2 }], 'x'), null);
  });
  it('ROC comparison: valid, each curve named with its AUC in the legend', async () => {
    const other = buildCurvesJson(randomRecords(8, 24, 12));
    const figure = await rocComparisonFigure(
      [
        { name: 'first', ...curves.roc, operatingPoint: { fpr: 0.2, tpr: 0.8 } },
        { name: 'second', ...other.roc },
      ],
      'Two curves',
    );
    await assertValidFigure(figure);
    assert.ok(figure.svg.includes(`>first (AUC ${curves.roc.auc!.toFixed(3)})</text>`));
    assert.ok(figure.svg.includes(`>second (AUC ${other.roc.auc!.toFixed(3)})</text>`));
  });
  it('training curves of several runs: valid, one legend entry a run; null when none logged an epoch', async () => {
    const log = (shift: number) =>
      Array.from({ length: 4 }, (_, e) => ({
        epoch: e + 1,
        train_loss: shift / (e + 1),
        val_loss: 1 / (e + 1),
      }));
    const figure = await runsTrainingCurvesFigure(
      [
        { name: 'fold 0', records: log(1) },
        { name: 'fold 3', records: log(2) },
      ],
      'Every fold',
    );
    assert.ok(figure !== null);
    await assertValidFigure(figure);
    for (const text of ['Every fold', 'fold 0', 'fold 3', 'train', 'validation'])
      assert.match(figure.svg, new RegExp(`>${text}</text>`));
    assert.equal(await runsTrainingCurvesFigure([{ name: 'fold 0', records: [] }], 'x'), null);
  });
  it('per-patient Dice: valid, one bar per defined patient, the exclusions said', async () => {
    const figure = await patientDiceFigure(metrics.endToEnd);
    await assertValidFigure(figure);
    for (const p of metrics.endToEnd.perPatient) assert.ok(figure.svg.includes(`>${p.id}</text>`), p.id);
    const hand = await patientDiceFigure(
      buildMetricsJson({
        slices: handRecords,
        threshold: 0.5,
        models: testModels,
        commit: null,
        seed: null,
        timings: {},
      }).endToEnd,
    );
    assert.ok(hand.svg.includes('1 patient(s) without true or predicted tumour left out'));
    assert.ok(!hand.svg.includes('>B</text>'));
  });
});
