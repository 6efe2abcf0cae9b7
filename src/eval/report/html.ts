// report.html of an evaluation: one self-contained page (page.ts) that a reader can open offline or attach to a
// review. It shows only what metrics.json and curves.json hold.
import { type CurvesJson, curvesJsonSchema } from '../curves-json.ts';
import { metricDefinitions } from '../definitions.ts';
import { type MetricsJson, metricsJsonSchema } from '../metrics-json.ts';
import { trainingPoints } from '../training-log.ts';
import { buildReportFigures, type ReportFigures, type TrainingLogs } from './figures.ts';
import { definitionsSection, escapeHtml, formatMetric, htmlPage, inlineFigure, table } from './page.ts';

export { DISCLAIMER, escapeHtml, formatMetric, namespaceSvgIds } from './page.ts';

/** One gallery row: an MRI slice, and the slice with its true mask and with the predicted mask drawn over it. */
export interface GalleryItem {
  kind: 'best' | 'worst';
  patient: string;
  slice: number;
  /** End-to-end Dice of this slice. */
  dice: number | null;
  /** PNG files' bytes. */
  mri: Uint8Array;
  /** The MRI with the true mask over it (green). */
  trueMask: Uint8Array;
  /** The MRI with the final predicted mask over it (red). */
  predMask: Uint8Array;
}

export interface ReportInput {
  metrics: MetricsJson;
  curves: CurvesJson;
  trainingLogs?: TrainingLogs;
  gallery?: readonly GalleryItem[];
  title?: string;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length > PNG_SIGNATURE.length && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

function pngDataUri(bytes: Uint8Array, what: string): string {
  if (!isPng(bytes)) throw new TypeError(`gallery ${what} is not a PNG file`);
  return `data:image/png;base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

function summarySection(m: MetricsJson, curves: CurvesJson): string {
  const c = m.classification;
  const e = m.endToEnd;
  return `<section id="summary"><h2>Summary</h2>
${table(
  ['Figure', 'Value'],
  [
    ['End-to-end Dice per patient volume, mean (primary)', formatMetric(e.meanPatientDice)],
    ['End-to-end Dice per patient volume, median', formatMetric(e.medianPatientDice)],
    ['End-to-end IoU per patient volume, mean', formatMetric(e.meanPatientIoU)],
    ['Patients with undefined Dice (left out)', String(e.undefinedDicePatients)],
    ['False negative slices (end to end)', String(e.falseNegativeSlices)],
    ['False positive slices (end to end)', String(e.falsePositiveSlices)],
    ['Segmenter alone: mean slice Dice (tumour slices)', formatMetric(m.segmentation.meanSliceDice)],
    ['Segmenter alone: mean slice IoU (tumour slices)', formatMetric(m.segmentation.meanSliceIoU)],
    ['Classifier slice accuracy', formatMetric(c.accuracy)],
    ['Classifier precision', formatMetric(c.precision)],
    ['Classifier recall (sensitivity)', formatMetric(c.recall)],
    ['Classifier specificity', formatMetric(c.specificity)],
    ['Classifier F1', formatMetric(c.f1)],
    ['Classifier ROC-AUC', formatMetric(c.auc)],
    ['Classifier average precision', formatMetric(curves.precisionRecall.averagePrecision)],
    ['Classifier threshold (from validation)', formatMetric(c.threshold)],
  ],
  'figures',
)}
</section>`;
}

function classificationSection(m: MetricsJson, figures: ReportFigures): string {
  const c = m.classification;
  const row = (name: string, s: MetricsJson['classification']['macroAvg']) => [
    name,
    formatMetric(s.precision),
    formatMetric(s.recall),
    formatMetric(s.f1),
    String(s.support),
  ];
  const p = c.patientLevel;
  return `<section id="classification"><h2>Stage 1: tumour / no tumour per slice</h2>
<h3>Classification report (threshold ${formatMetric(c.threshold)})</h3>
${table(
  ['', 'precision', 'recall', 'f1-score', 'support'],
  [
    row('no tumour', c.perClass.noTumour),
    row('tumour', c.perClass.tumour),
    [
      'accuracy',
      '',
      '',
      formatMetric(c.accuracy),
      String(c.perClass.noTumour.support + c.perClass.tumour.support),
    ],
    row('macro avg', c.macroAvg),
    row('weighted avg', c.weightedAvg),
  ],
  'report',
)}
<p>Confusion counts: TP ${c.confusion.tp}, FP ${c.confusion.fp}, TN ${c.confusion.tn}, FN ${c.confusion.fn}.
Specificity ${formatMetric(c.specificity)}, ROC-AUC ${formatMetric(c.auc)}.</p>
<div class="plots">
${inlineFigure('roc', figures.roc, 'No ROC curve.')}
${inlineFigure('precision-recall', figures['precision-recall'], 'No precision-recall curve.')}
${inlineFigure('confusion-matrix', figures['confusion-matrix'], 'No confusion matrix.')}
</div>
<h3>Per patient (a patient is positive if any slice is)</h3>
${table(
  ['patients', 'accuracy', 'precision', 'recall', 'specificity', 'f1', 'TP', 'FP', 'TN', 'FN'],
  [
    [
      String(p.patients),
      formatMetric(p.accuracy),
      formatMetric(p.precision),
      formatMetric(p.recall),
      formatMetric(p.specificity),
      formatMetric(p.f1),
      String(p.confusion.tp),
      String(p.confusion.fp),
      String(p.confusion.tn),
      String(p.confusion.fn),
    ],
  ],
)}
</section>`;
}

function segmentationSection(m: MetricsJson, figures: ReportFigures): string {
  const e = m.endToEnd;
  const rows = [...e.perPatient]
    .sort((a, b) => (b.dice ?? -1) - (a.dice ?? -1) || (a.id < b.id ? -1 : 1))
    .map((p) => [
      p.id,
      formatMetric(p.dice),
      formatMetric(p.iou),
      String(p.trueVoxels),
      String(p.predVoxels),
    ]);
  return `<section id="segmentation"><h2>Stage 2 and end to end: tumour outline</h2>
<p>Segmenter alone on ${m.segmentation.slices} ground-truth tumour slices: mean Dice ${formatMetric(m.segmentation.meanSliceDice)},
mean IoU ${formatMetric(m.segmentation.meanSliceIoU)}.</p>
<p>End to end (classifier gating, post-processing, every slice): mean Dice per patient volume
<strong>${formatMetric(e.meanPatientDice)}</strong>, median ${formatMetric(e.medianPatientDice)}, mean IoU
${formatMetric(e.meanPatientIoU)} over ${e.perPatient.length - e.undefinedDicePatients} patients;
${e.undefinedDicePatients} patient(s) with neither true nor predicted tumour left out.
${e.falseNegativeSlices} tumour slice(s) with an empty output, ${e.falsePositiveSlices} tumour-free slice(s) with a non-empty one.</p>
${inlineFigure('patient-dice', figures['patient-dice'], 'No per-patient figure.')}
${table(['patient', 'Dice', 'IoU', 'true tumour voxels', 'predicted tumour voxels'], rows, 'patients')}
</section>`;
}

/** Which of the key curves a model's log lacks: the loss on both splits, and accuracy for the classifier. */
function missingCurves(role: 'classifier' | 'segmenter', logs: TrainingLogs): string {
  const records = logs[role] ?? [];
  if (records.length === 0) return '';
  const logged = new Set(trainingPoints(records).map((p) => `${p.split} ${p.metric}`));
  const wanted = role === 'classifier' ? ['loss', 'accuracy'] : ['loss'];
  const missing = wanted.flatMap((metric) =>
    (['train', 'validation'] as const)
      .filter((split) => !logged.has(`${split} ${metric}`))
      .map((split) => `${split} ${metric}`),
  );
  return missing.length === 0
    ? ''
    : `<p class="missing">${escapeHtml(`The ${role}'s log has no ${missing.join(' or ')} (not logged by the training that made it).`)}</p>`;
}

function trainingSection(figures: ReportFigures, logs: TrainingLogs): string {
  return `<section id="training"><h2>Training</h2>
${inlineFigure('training-classifier', figures['training-classifier'], 'No classifier training log.')}
${missingCurves('classifier', logs)}
${inlineFigure('training-segmenter', figures['training-segmenter'], 'No segmenter training log.')}
${missingCurves('segmenter', logs)}
</section>`;
}

function gallerySection(gallery: readonly GalleryItem[]): string {
  if (gallery.length === 0)
    return '<section id="gallery"><h2>Gallery</h2><p class="missing">No gallery.</p></section>';
  const item = (g: GalleryItem) => {
    const where = `${g.patient}, slice ${g.slice}`;
    const img = (bytes: Uint8Array, label: string) =>
      `<figure><img src="${pngDataUri(bytes, `${label} of ${where}`)}" alt="${escapeHtml(`${label}, ${where}`)}"><figcaption>${escapeHtml(label)}</figcaption></figure>`;
    return `<div class="gallery-item ${g.kind}"><h4>${escapeHtml(`${g.kind === 'best' ? 'Best' : 'Worst'}: ${where}, Dice ${formatMetric(g.dice)}`)}</h4>
${img(g.mri, 'MRI')}${img(g.trueMask, 'truth on the MRI (green)')}${img(g.predMask, 'prediction on the MRI (red)')}</div>`;
  };
  return `<section id="gallery"><h2>Gallery: best and worst tumour slices (end-to-end Dice)</h2>
${gallery.map(item).join('\n')}
</section>`;
}

function provenanceSection(m: MetricsJson): string {
  const roles = [
    ['classifier', m.models.classifier],
    ['segmenter', m.models.segmenter],
  ] as const;
  const rows = roles.flatMap(([role, info]) =>
    info.files.map((f, k) => [k === 0 ? role : '', k === 0 ? info.name : '', f.path, f.sha256]),
  );
  // A whole config is too long for a table cell (the page grew thousands of pixels wide): folded below it.
  const configs = roles
    .map(
      ([role, info]) =>
        `<details class="config"><summary>${escapeHtml(`${role} config (${info.name})`)}</summary><pre>${escapeHtml(JSON.stringify(info.config, null, 2))}</pre></details>`,
    )
    .join('\n');
  return `<section id="provenance"><h2>Data, models, run</h2>
<p>${m.data.patients} patients, ${m.data.slices} slices, ${m.data.tumourSlices} with tumour.
Commit ${escapeHtml(m.commit ?? 'unknown')}, seed ${m.seed ?? 'unknown'}.</p>
${table(['role', 'model', 'file', 'sha256'], rows, 'files')}
${configs}
${table(
  ['phase', 'seconds'],
  Object.entries(m.timings).map(([k, v]) => [k, v.toFixed(1)]),
)}
</section>`;
}

/** The page, from already drawn figures (so a writer can save the same figures as files). */
export function renderReportHtml(input: ReportInput, figures: ReportFigures): string {
  const metrics = metricsJsonSchema.parse(input.metrics);
  const curves = curvesJsonSchema.parse(input.curves);
  const title = input.title ?? 'tumorscope evaluation report';
  return htmlPage(title, [
    summarySection(metrics, curves),
    classificationSection(metrics, figures),
    segmentationSection(metrics, figures),
    trainingSection(figures, input.trainingLogs ?? {}),
    gallerySection(input.gallery ?? []),
    provenanceSection(metrics),
    definitionsSection(metricDefinitions),
  ]);
}

/** Draws the figures and renders the page. */
export async function buildReportHtml(input: ReportInput): Promise<string> {
  return renderReportHtml(input, await buildReportFigures(input.metrics, input.curves, input.trainingLogs));
}
