// report.html of a cross-validation run: the same self-contained page as an evaluation's (page.ts), showing only
// what cv-metrics.json and cv-curves.json hold, the folds' progress and their training logs. It works with any
// number of finished folds and names the folds that are not in it yet.
import { institutionOf } from '../../data/dataset-index.ts';
import {
  type CvChoice,
  type CvCurvesJson,
  type CvSummary,
  cvCurvesJsonSchema,
  type FoldClassification,
  type FoldProgress,
  foldStateInWords,
  overFolds,
  type SliceClassification,
} from '../cv-summary.ts';
import { confusionMatrixFigure } from '../plots/confusion.ts';
import { patientDiceFigure } from '../plots/patient-dice.ts';
import type { Figure } from '../plots/render.ts';
import { rocComparisonFigure } from '../plots/roc.ts';
import { runsTrainingCurvesFigure } from '../plots/training.ts';
import type { TrainingLogRecord } from '../training-log.ts';
import { definitionsSection, escapeHtml, formatMetric, htmlPage, inlineFigure, table } from './page.ts';

export type CvStageName = 'segmenter' | 'classifier';

/** One fold's training log of one stage. */
export interface FoldTrainingLog {
  fold: number;
  stage: CvStageName;
  records: readonly TrainingLogRecord[];
}

export interface CvReportInput {
  summary: CvSummary;
  curves: CvCurvesJson;
  /** Every fold of the split, in the summary or not. */
  progress: readonly FoldProgress[];
  trainingLogs: readonly FoldTrainingLog[];
  title?: string;
}

export type CvReportFigureName =
  | 'roc'
  | 'confusion-two-stage'
  | 'confusion-classifier'
  | 'patient-dice'
  | 'training-segmenter'
  | 'training-classifier';

export type CvReportFigures = Partial<Record<CvReportFigureName, Figure>>;

const thresholdText = (t: number | readonly number[]) =>
  typeof t === 'number' ? formatMetric(t) : t.map(formatMetric).join(' / ');

const operatingPoint = (c: SliceClassification) =>
  c.recall === null || c.specificity === null ? undefined : { fpr: 1 - c.specificity, tpr: c.recall };

const foldName = (fold: number) => `fold ${fold}`;

export async function buildCvReportFigures(input: CvReportInput): Promise<CvReportFigures> {
  const { summary: s } = input;
  const curves = cvCurvesJsonSchema.parse(input.curves);
  const figures: CvReportFigures = {};
  const alone = s.oof.classifierAlone;
  figures.roc = await rocComparisonFigure(
    [
      ...(curves.classifierAlone === null
        ? []
        : [
            {
              name: 'classifier alone',
              ...curves.classifierAlone,
              operatingPoint: alone === null ? undefined : operatingPoint(alone),
            },
          ]),
      {
        name: 'two-stage detection',
        ...curves.twoStage,
        operatingPoint: operatingPoint(s.oof.chosenOnAll.classification),
      },
    ],
    'Out-of-fold ROC curves, every OOF slice',
    'dots: the decisions of the choice made on all OOF patients',
  );
  figures['confusion-two-stage'] = await confusionMatrixFigure(
    s.oof.classification.confusion,
    undefined,
    'Two-stage detection, nested',
  );
  if (alone !== null)
    figures['confusion-classifier'] = await confusionMatrixFigure(
      alone.confusion,
      undefined,
      `Classifier alone (threshold ${thresholdText(alone.threshold)})`,
    );
  const e = s.oof.endToEnd;
  figures['patient-dice'] = await patientDiceFigure(
    {
      perPatient: e.perPatient.map((p) => ({ id: p.id, dice: p.dice, group: foldName(p.fold) })),
      meanPatientDice: e.meanPatientDice,
      medianPatientDice: e.medianPatientDice,
      undefinedDicePatients: 0,
    },
    'Fold',
  );
  for (const stage of ['segmenter', 'classifier'] as const) {
    const runs = input.trainingLogs
      .filter((l) => l.stage === stage)
      .sort((a, b) => a.fold - b.fold)
      .map((l) => ({ name: foldName(l.fold), records: l.records }));
    const figure = await runsTrainingCurvesFigure(
      runs,
      `${stage === 'segmenter' ? 'Segmenter' : 'Classifier'} training, every fold`,
    );
    if (figure !== null) figures[`training-${stage}`] = figure;
  }
  return figures;
}

/** "mean ± sd" of a figure over folds. */
function meanSd(values: readonly (number | null)[]): string {
  const { mean, sd } = overFolds(values);
  return `${formatMetric(mean)} ± ${formatMetric(sd)}`;
}

const classificationCells = (c: FoldClassification | null) =>
  c === null
    ? ['n/a', 'n/a', 'n/a', 'n/a']
    : [formatMetric(c.accuracy), formatMetric(c.auc), formatMetric(c.recall), formatMetric(c.specificity)];

const classificationSpread = (rows: readonly (FoldClassification | null)[]) =>
  (['accuracy', 'auc', 'recall', 'specificity'] as const).map((k) =>
    meanSd(rows.map((r) => (r === null ? null : r[k]))),
  );

function missingFolds(input: CvReportInput): FoldProgress[] {
  const done = new Set(input.summary.folds.map((f) => f.fold));
  return input.progress.filter((p) => !done.has(p.fold));
}

type Estimate = Pick<CvSummary['oof']['chosenOnAll'], 'endToEnd' | 'classification'>;

/** The summary's rows: a figure of the nested estimate next to the same figure of the choice made on all. */
const summaryRows: [string, (e: Estimate) => number | null][] = [
  ['Dice per patient volume, mean (primary)', (e) => e.endToEnd.meanPatientDice],
  ['Dice per patient volume, median', (e) => e.endToEnd.medianPatientDice],
  ['IoU per patient volume, mean', (e) => e.endToEnd.meanPatientIoU],
  ['Two-stage slice accuracy', (e) => e.classification.accuracy],
  ['Two-stage recall (sensitivity)', (e) => e.classification.recall],
  ['Two-stage specificity', (e) => e.classification.specificity],
  ['Two-stage ROC-AUC of the fused score', (e) => e.classification.auc],
];

function summarySection(input: CvReportInput): string {
  const s = input.summary;
  const missing = missingFolds(input);
  const heldOut = input.progress
    .filter((p) => s.folds.some((f) => f.fold === p.fold))
    .reduce((n, p) => n + p.heldOut, 0);
  const nested = { endToEnd: s.oof.endToEnd, classification: s.oof.classification };
  const all = s.oof.chosenOnAll;
  return `<section id="summary"><h2>Summary</h2>
<p>${s.folds.length} of ${input.progress.length} folds in this report (${s.folds.map((f) => foldName(f.fold)).join(', ')}):
${s.patients} out-of-fold (OOF) patients${heldOut > s.patients ? ` of the ${heldOut} these folds hold back (the others have no tumour in their masks, so no Dice per volume)` : ''}.
${
  missing.length === 0
    ? 'Every fold of the split is in.'
    : `<strong>Not yet in this report: ${missing.map((p) => escapeHtml(foldName(p.fold))).join(', ')}</strong> (see <a href="#folds">Folds</a>).`
}</p>
${table(
  ['', 'nested estimate (new patients)', 'chosen on all OOF patients (shipped choice, optimistic)'],
  summaryRows.map(([label, pick]) => [label, formatMetric(pick(nested)), formatMetric(pick(all))]),
  'figures',
)}
</section>`;
}

function foldsSection(input: CvReportInput): string {
  const folds = [...input.summary.folds].sort((a, b) => a.fold - b.fold);
  const n = folds.length;
  const twoStage = folds.map((f) => [
    foldName(f.fold),
    String(f.patients),
    ...classificationCells(f.classification),
    formatMetric(f.endToEnd.meanPatientDice),
    formatMetric(f.endToEnd.medianPatientDice),
  ]);
  twoStage.push([
    `mean ± sd (${n} folds)`,
    String(folds.reduce((k, f) => k + f.patients, 0)),
    ...classificationSpread(folds.map((f) => f.classification)),
    meanSd(folds.map((f) => f.endToEnd.meanPatientDice)),
    meanSd(folds.map((f) => f.endToEnd.medianPatientDice)),
  ]);
  const alone = folds.map((f) => [foldName(f.fold), ...classificationCells(f.classifierAlone)]);
  alone.push([`mean ± sd (${n} folds)`, ...classificationSpread(folds.map((f) => f.classifierAlone))]);
  const missing = missingFolds(input);
  return `<section id="folds"><h2>Folds</h2>
<p>Each fold's figures on its own held-back patients, every decision made on the other folds (nested).</p>
${table(
  [
    'fold',
    'patients',
    'accuracy',
    'ROC-AUC',
    'recall',
    'specificity',
    'mean patient Dice',
    'median patient Dice',
  ],
  twoStage,
  'folds nowrap',
)}
<h3>The classifier alone (threshold: max Youden J on the other folds)</h3>
${table(['fold', 'accuracy', 'ROC-AUC', 'recall', 'specificity'], alone, 'folds-classifier nowrap')}
${
  missing.length === 0
    ? ''
    : `<p class="missing-folds">Folds not in this report yet: ${missing
        .map((p) => `${escapeHtml(foldName(p.fold))} (${escapeHtml(foldStateInWords(p))})`)
        .join('; ')}.</p>`
}
</section>`;
}

function detectionSection(input: CvReportInput, figures: CvReportFigures): string {
  const o = input.summary.oof;
  const row = (name: string, c: SliceClassification) => [
    name,
    formatMetric(c.accuracy),
    formatMetric(c.precision),
    formatMetric(c.recall),
    formatMetric(c.specificity),
    formatMetric(c.f1),
    formatMetric(c.auc),
    thresholdText(c.threshold),
    `${c.confusion.tp} / ${c.confusion.fp} / ${c.confusion.tn} / ${c.confusion.fn}`,
  ];
  return `<section id="detection"><h2>Tumour / no tumour per slice</h2>
${table(
  ['', 'accuracy', 'precision', 'recall', 'specificity', 'F1', 'ROC-AUC', 'threshold', 'TP / FP / TN / FN'],
  [
    ...(o.classifierAlone === null
      ? []
      : [row('classifier alone, threshold chosen on all', o.classifierAlone)]),
    row('two-stage detection, nested', o.classification),
    row('two-stage detection, chosen on all', o.chosenOnAll.classification),
  ],
  'detection nowrap',
)}
<div class="plots">
${inlineFigure('roc', figures.roc, 'No ROC curve.')}
${inlineFigure('confusion-two-stage', figures['confusion-two-stage'], 'No confusion matrix.')}
${inlineFigure('confusion-classifier', figures['confusion-classifier'], 'No classifier outputs yet.')}
</div>
</section>`;
}

const choiceCells = (c: CvChoice) => [
  c.fusion.threshold === 0 ? 'none (every slice)' : c.fusion.detector,
  String(c.fusion.sliceRadius),
  formatMetric(c.fusion.threshold),
  c.segmenter.tta,
  formatMetric(c.segmenter.threshold),
  String(c.segmenter.minComponentArea),
  c.largest3DComponent ? 'yes' : 'no',
];

function choiceSection(input: CvReportInput): string {
  const s = input.summary;
  const families = s.families.map((f) => [
    f.family,
    formatMetric(f.nested.meanPatientDice),
    formatMetric(f.nested.medianPatientDice),
    formatMetric(f.chosenOnAll.meanPatientDice),
    formatMetric(f.chosenOnAll.medianPatientDice),
    ...choiceCells(f.chosenOnAll.candidate),
  ]);
  const choiceHead = [
    'slice detector',
    'slice radius',
    'detection threshold',
    'TTA',
    'pixel threshold',
    'min component area',
    'largest 3-D component',
  ];
  return `<section id="choice"><h2>The chosen configuration</h2>
<p>${s.candidatesScored} configurations scored by mean Dice per patient volume, end to end.</p>
${table(
  ['chosen on', ...choiceHead],
  [
    ['all OOF patients (shipped)', ...choiceCells(s.config)],
    ...[...s.folds]
      .sort((a, b) => a.fold - b.fold)
      .map((f) => [`the folds other than ${f.fold}`, ...choiceCells(f.chosenOnOtherFolds)]),
  ],
  'choice',
)}
<h3>Families of fusion rules</h3>
${table(
  [
    'family',
    'nested mean Dice',
    'nested median Dice',
    'chosen on all: mean Dice',
    'chosen on all: median Dice',
    ...choiceHead,
  ],
  families,
  'families',
)}
</section>`;
}

function patientsSection(input: CvReportInput, figures: CvReportFigures): string {
  const rows = [...input.summary.oof.endToEnd.perPatient]
    .sort((a, b) => (b.dice ?? -1) - (a.dice ?? -1) || (a.id < b.id ? -1 : 1))
    .map((p) => [p.id, institutionOf(p.id), String(p.fold), formatMetric(p.dice), formatMetric(p.iou)]);
  return `<section id="patients"><h2>Dice per patient volume, every OOF patient (nested)</h2>
${inlineFigure('patient-dice', figures['patient-dice'], 'No per-patient figure.')}
${table(['patient', 'institution', 'fold', 'Dice', 'IoU'], rows, 'patients')}
</section>`;
}

function trainingSection(input: CvReportInput, figures: CvReportFigures): string {
  const rows = [...input.trainingLogs]
    .sort((a, b) => a.fold - b.fold || a.stage.localeCompare(b.stage))
    .map((l) => {
      const epochs = new Set(l.records.map((r) => r['epoch']).filter((e) => typeof e === 'number')).size;
      const seconds = l.records.reduce(
        (t, r) => t + (typeof r['seconds'] === 'number' ? (r['seconds'] as number) : 0),
        0,
      );
      return [foldName(l.fold), l.stage, String(epochs), (seconds / 3600).toFixed(2)];
    });
  return `<section id="training"><h2>Training, every fold</h2>
${inlineFigure('training-segmenter', figures['training-segmenter'], 'No segmenter training log.')}
${inlineFigure('training-classifier', figures['training-classifier'], 'No classifier training log.')}
${rows.length === 0 ? '' : table(['fold', 'stage', 'epochs logged', 'hours of training'], rows, 'training')}
</section>`;
}

const cvDefinitions = [
  {
    term: 'Out-of-fold (OOF)',
    definition:
      "A patient's outputs come from the models of the one fold that held it back: no model ever saw the patient it is scored on.",
  },
  {
    term: 'Nested estimate',
    definition:
      'For each fold, every decision (fusion rule and threshold, post-processing, TTA) is chosen on the other folds’ OOF patients and scored on this fold’s: the figure to expect on new patients.',
  },
  {
    term: 'Chosen on all',
    definition:
      'The decisions chosen and scored on all OOF patients: what ships, slightly optimistic because it is scored on the patients it was chosen on.',
  },
  {
    term: 'mean ± sd over folds',
    definition:
      'The mean of the folds’ figures and their sample standard deviation (n − 1 in the denominator); n/a with one fold.',
  },
  {
    term: 'Two-stage detection',
    definition:
      'A slice is called tumour iff its final mask (after gating and post-processing) holds tumour. Its ROC curve is that of the fused slice score before post-processing, so the decision (the dot) may lie off the curve; its nested ROC-AUC is the mean of the folds’ AUCs, as each fold has its own fused score.',
  },
  {
    term: 'Classifier alone',
    definition:
      "The reference design's gate: a slice is tumour iff the classifier's P(tumour) >= a threshold chosen by max Youden J.",
  },
  {
    term: 'Dice per patient volume',
    definition:
      '2|A∩B| / (|A| + |B|) over all voxels of a patient, end to end (a slice missed by detection counts against the mask).',
  },
];

/** The page, from already drawn figures (so a writer can save the same figures as files). */
export function renderCvReportHtml(input: CvReportInput, figures: CvReportFigures): string {
  return htmlPage(input.title ?? 'tumorscope cross-validation report', [
    summarySection(input),
    foldsSection(input),
    detectionSection(input, figures),
    choiceSection(input),
    patientsSection(input, figures),
    trainingSection(input, figures),
    definitionsSection(cvDefinitions),
  ]);
}

/** Draws the figures and renders the page. */
export async function buildCvReportHtml(input: CvReportInput): Promise<string> {
  return renderCvReportHtml(input, await buildCvReportFigures(input));
}
