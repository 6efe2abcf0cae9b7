import assert from 'node:assert/strict';
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import sharp from 'sharp';
import { FileWriteError } from '../../src/engine/index.ts';
import { buildCurvesJson, curvesJsonSchema } from '../../src/eval/curves-json.ts';
import { buildMetricsJson, metricsJsonSchema } from '../../src/eval/metrics-json.ts';
import { buildReportFigures, type ReportFigures } from '../../src/eval/report/figures.ts';
import {
  buildReportHtml,
  DISCLAIMER,
  escapeHtml,
  formatMetric,
  type GalleryItem,
  namespaceSvgIds,
  type ReportInput,
  renderReportHtml,
} from '../../src/eval/report/html.ts';
import { writeEvaluationReport } from '../../src/eval/report/write.ts';
import { randomRecords, testModels } from './fixtures.ts';

const records = randomRecords(6, 20, 21);
const metrics = buildMetricsJson({
  slices: records,
  threshold: 0.5,
  models: { ...testModels, classifier: { ...testModels.classifier, name: 'dense<net>&121' } },
  commit: 'abc1234',
  seed: 7,
  timings: { evaluate: 12.5 },
});
const curves = buildCurvesJson(records);
const classifierLog = Array.from({ length: 4 }, (_, e) => ({
  epoch: e + 1,
  train_loss: 1 / (e + 1),
  val_loss: 1.1 / (e + 1),
}));

async function png(r: number, g: number, b: number): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r, g, b } } })
      .png()
      .toBuffer(),
  );
}

describe('report.html', () => {
  let input: ReportInput;
  let figures: ReportFigures;
  let html: string;
  before(async () => {
    const gallery: GalleryItem[] = [
      {
        kind: 'best',
        patient: 'TCGA_XX_0001',
        slice: 12,
        dice: 0.93,
        mri: await png(90, 90, 90),
        trueMask: await png(255, 255, 255),
        predMask: await png(250, 250, 250),
      },
      {
        kind: 'worst',
        patient: 'TCGA_XX_0002',
        slice: 3,
        dice: 0.05,
        mri: await png(80, 80, 80),
        trueMask: await png(255, 255, 255),
        predMask: await png(0, 0, 0),
      },
    ];
    input = { metrics, curves, trainingLogs: { classifier: classifierLog }, gallery };
    figures = await buildReportFigures(metrics, curves, input.trainingLogs);
    html = renderReportHtml(input, figures);
  });

  it('references nothing on the network and runs no script', () => {
    assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    assert.doesNotMatch(html, /url\(\s*["']?(?:https?:)?\/\//i);
    assert.doesNotMatch(html, /<script|<link|@import/i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  });
  it('shows the disclaimer', () => {
    assert.ok(html.includes(`<p class="disclaimer">${escapeHtml(DISCLAIMER)}</p>`));
    assert.match(DISCLAIMER, /not a diagnostic device/);
  });
  it('holds the numbers of metrics.json', () => {
    const c = metrics.classification;
    for (const v of [
      c.accuracy,
      c.precision,
      c.recall,
      c.f1,
      c.auc,
      c.specificity,
      metrics.endToEnd.meanPatientDice,
      metrics.endToEnd.medianPatientDice,
      metrics.segmentation.meanSliceDice,
    ]) {
      assert.ok(html.includes(`<td>${formatMetric(v)}</td>`), `missing ${v}`);
    }
    assert.ok(
      html.includes(`TP ${c.confusion.tp}, FP ${c.confusion.fp}, TN ${c.confusion.tn}, FN ${c.confusion.fn}`),
    );
    for (const p of metrics.endToEnd.perPatient) {
      assert.ok(
        html.includes(
          `<tr><td>${p.id}</td><td>${formatMetric(p.dice)}</td><td>${formatMetric(p.iou)}</td><td>${p.trueVoxels}</td><td>${p.predVoxels}</td></tr>`,
        ),
      );
    }
  });
  it('has the classification report in scikit-learn layout', () => {
    const t = metrics.classification.perClass.tumour;
    assert.ok(
      html.includes(
        `<tr><td>tumour</td><td>${formatMetric(t.precision)}</td><td>${formatMetric(t.recall)}</td><td>${formatMetric(t.f1)}</td><td>${t.support}</td></tr>`,
      ),
    );
    for (const row of ['no tumour', 'macro avg', 'weighted avg', 'accuracy'])
      assert.ok(html.includes(`<td>${row}</td>`), row);
  });
  it('inlines every figure, with ids unique across the page', () => {
    for (const name of [
      'roc',
      'precision-recall',
      'confusion-matrix',
      'patient-dice',
      'training-classifier',
    ]) {
      assert.match(html, new RegExp(`<figure class="plot" id="figure-${name}"><svg `));
    }
    assert.ok(html.includes('No segmenter training log.'));
    // the confusion matrix legend's colour gradient, renamed so that another figure's gradient_0 cannot clash
    assert.match(html, /<linearGradient id="fig-confusion-matrix-gradient_0"/);
    assert.match(html, /url\(#fig-confusion-matrix-gradient_0\)/);
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length);
    for (const m of html.matchAll(/url\(#([^)]+)\)/g))
      assert.ok(ids.includes(m[1]), `dangling url(#${m[1]})`);
  });
  it('embeds the gallery as PNG data URIs and refuses other bytes', () => {
    assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 6);
    assert.ok(html.includes('<figcaption>truth on the MRI (green)</figcaption>'));
    assert.ok(html.includes('<figcaption>prediction on the MRI (red)</figcaption>'));
    assert.ok(html.includes('Worst: TCGA_XX_0002, slice 3, Dice 0.050'));
    const bad = { ...input.gallery![0]!, mri: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]) };
    assert.throws(() => renderReportHtml({ ...input, gallery: [bad] }, figures), /not a PNG/);
  });
  it('keeps the run table narrow: files and hashes in cells, each whole model config folded below', () => {
    const section = html.slice(
      html.indexOf('<section id="provenance">'),
      html.indexOf('<section id="definitions">'),
    );
    const cells = [...section.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]!);
    assert.ok(cells.length > 0);
    for (const cell of cells)
      assert.ok(cell.length <= 100, `a ${cell.length}-character cell: ${cell.slice(0, 60)}…`);
    assert.equal((section.match(/<details class="config"><summary>/g) ?? []).length, 2);
    assert.ok(section.includes(escapeHtml(JSON.stringify(metrics.models.segmenter.config, null, 2))));
    // Long unbroken values (paths, hashes) wrap inside their cell rather than widen the page.
    assert.match(html, /td\{overflow-wrap:anywhere\}/);
  });
  it('labels the ROC operating point with its threshold', () => {
    const c = metrics.classification;
    const label = `threshold ${c.threshold.toFixed(3)}: TPR ${c.recall!.toFixed(3)}, FPR ${(1 - c.specificity!).toFixed(3)}`;
    assert.ok(figures.roc!.svg.includes(label), label);
  });
  it('names the training curves a log lacks', () => {
    // The classifier's log here has losses on both splits but no accuracy at all.
    assert.ok(html.includes('The classifier&#39;s log has no train accuracy or validation accuracy'));
    const both = renderReportHtml(
      {
        ...input,
        trainingLogs: {
          classifier: classifierLog.map((r) => ({ ...r, train_accuracy: 0.9, val_accuracy: 0.8 })),
          segmenter: [{ epoch: 1, train_loss: 1, val_patient_dice: 0.5 }],
        },
      },
      figures,
    );
    assert.ok(!both.includes('classifier&#39;s log has no'));
    assert.ok(both.includes('The segmenter&#39;s log has no validation loss'));
  });
  it('escapes text from the inputs', () => {
    assert.ok(html.includes('dense&lt;net&gt;&amp;121'));
    assert.ok(!html.includes('dense<net>'));
  });
  it('has the metric definitions', () => {
    assert.match(html, /<dt>End-to-end Dice per patient volume \(primary\)<\/dt>/);
    assert.match(html, /never counted as a Dice of 1/);
  });
  it('builds with no training logs and no gallery', async () => {
    const bare = await buildReportHtml({ metrics, curves });
    assert.ok(bare.includes('No classifier training log.'));
    assert.ok(bare.includes('No gallery.'));
    assert.ok(bare.includes(DISCLAIMER));
  });
  it('refuses a metrics object that breaks the schema', () => {
    const broken = { ...metrics, classification: { ...metrics.classification, auc: 2 } };
    assert.throws(() => renderReportHtml({ metrics: broken, curves }, figures));
  });
});

describe('namespaceSvgIds', () => {
  it('prefixes ids and the references to them, and nothing else', () => {
    const svg =
      '<svg><defs><linearGradient id="gradient_0"/><clipPath id="clip1"/></defs><rect fill="url(#gradient_0)" clip-path="url(#clip1)"/><use href="#clip1"/><a href="#elsewhere"/></svg>';
    assert.equal(
      namespaceSvgIds(svg, 'f'),
      '<svg><defs><linearGradient id="f-gradient_0"/><clipPath id="f-clip1"/></defs><rect fill="url(#f-gradient_0)" clip-path="url(#f-clip1)"/><use href="#f-clip1"/><a href="#elsewhere"/></svg>',
    );
  });
});

describe('writeEvaluationReport', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tumorscope-eval-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('writes metrics.json, curves.json, report.html and every figure as SVG and PNG, leaving no temp file', async () => {
    const out = join(dir, 'nested', 'eval');
    const written = await writeEvaluationReport(out, {
      metrics,
      curves,
      trainingLogs: { classifier: classifierLog, segmenter: [] },
    });
    const figureNames = [
      'confusion-matrix',
      'patient-dice',
      'precision-recall',
      'roc',
      'training-classifier',
    ];
    assert.deepEqual(readdirSync(out).sort(), ['curves.json', 'figures', 'metrics.json', 'report.html']);
    assert.deepEqual(
      readdirSync(join(out, 'figures')).sort(),
      figureNames.flatMap((n) => [`${n}.png`, `${n}.svg`]),
    );
    assert.equal(written.files.length, 2 * figureNames.length + 3);
    assert.equal(written.files.at(-1), 'report.html');
    assert.deepEqual(
      metricsJsonSchema.parse(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))),
      metrics,
    );
    assert.deepEqual(
      curvesJsonSchema.parse(JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8'))),
      curves,
    );
    const roc = readFileSync(join(out, 'figures', 'roc.png'));
    assert.equal(roc.subarray(1, 4).toString('latin1'), 'PNG');
    assert.ok(readFileSync(join(out, 'figures', 'roc.svg'), 'utf8').startsWith('<svg'));
    assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes(DISCLAIMER));
  });

  it('leaves an earlier report as it was when the disk fills up part of the way through, naming the file', async (t) => {
    const out = join(dir, 'full');
    await writeEvaluationReport(out, { metrics, curves, trainingLogs: {} });
    const before = filesUnder(out);
    let writes = 0;
    const writeSync = fs.writeSync as (...args: unknown[]) => number;
    // The disk fills up on the fourth write: three files of the new report are staged by then.
    t.mock.method(fs, 'writeSync', (...args: unknown[]) => {
      writes += 1;
      if (writes > 3)
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return writeSync(...args);
    });
    syncBuiltinESMExports();
    t.after(() => {
      mock.restoreAll();
      syncBuiltinESMExports();
    });
    // Another evaluation: every figure and file differs from the first.
    const others = randomRecords(6, 20, 22);
    const changed = buildMetricsJson({
      slices: others,
      threshold: 0.4,
      models: testModels,
      commit: 'def5678',
      seed: 8,
      timings: {},
    });
    await assert.rejects(
      writeEvaluationReport(out, { metrics: changed, curves: buildCurvesJson(others), trainingLogs: {} }),
      (err: Error) => err instanceof FileWriteError && err.code === 'ENOSPC' && err.message.startsWith(out),
    );
    assert.ok(writes > 3);
    assert.deepEqual(filesUnder(out), before);
  });
});

/** Every file under `dir` with its bytes, hidden ones included. */
function filesUnder(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[path.slice(dir.length + 1)] = readFileSync(path).toString('base64');
  }
  return files;
}
