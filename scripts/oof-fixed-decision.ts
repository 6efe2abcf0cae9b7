// A CV run's segmenters compared at one fixed decision, so that recipes are compared and not decision searches:
// pixel threshold t, no TTA, no gate, no small-component removal, largest 3-D component. Per fold and as mean ± sd
// over folds: mean and median Dice per patient, and the two-stage detection those masks make (a slice is called
// positive iff its final mask holds tumour: accuracy, recall, specificity; ROC-AUC of the slice's largest pixel
// probability). Folds without OOF maps are left out and named.
//
//   node --import tsx scripts/oof-fixed-decision.ts --data DATA/kaggle_3m --cv runs/cv-variant-ms [--threshold 0.3]
import { parseArgs } from 'node:util';
import { accuracy, recall, specificity } from '../src/metrics/classification.ts';
import { confusionFromLabels } from '../src/metrics/confusion.ts';
import { rocAuc } from '../src/metrics/roc.ts';
import { mean, median, sampleStandardDeviation } from '../src/metrics/stats.ts';
import { type AnalysisGrid, patientFigures, scoreCandidates } from '../src/pipeline/cv-analysis.ts';
import { sliceMaxima } from '../src/postprocess/fusion.ts';
import { loadOofRun } from './oof-run.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    cv: { type: 'string' },
    threshold: { type: 'string', default: '0.3' },
  },
});
const threshold = Number(values.threshold);
if (!(threshold > 0 && threshold < 1))
  throw new Error(`--threshold must lie in (0, 1), got ${values.threshold}`);
const patients = await loadOofRun(
  values.data,
  values.cv,
  'oof-fixed-decision.ts --data DIR --cv CV [--threshold t]',
  (line) => console.log(line),
);

// A grid of one candidate: the fixed decision (threshold 0 = every slice called, i.e. no gate).
const grid: AnalysisGrid = {
  tta: ['none'],
  pixelThresholds: [threshold],
  minComponentAreas: [0],
  sliceRadii: [0],
  detectionThresholds: [0],
};
const table = scoreCandidates(patients, grid).filter((c) => c.largest3DComponent);
if (table.candidates.length !== 1) throw new Error(`expected one candidate, got ${table.candidates.length}`);

interface FoldRow {
  fold: number;
  patients: number;
  meanDice: number;
  medianDice: number;
  accuracy: number;
  recall: number;
  specificity: number;
  auc: number;
}
const rows: FoldRow[] = [];
const folds = [...new Set(patients.map((p) => p.fold))].sort((a, b) => a - b);
for (const fold of folds) {
  const inside = patients.flatMap((p, k) => (p.fold === fold ? [k] : []));
  const figures = patientFigures(table, 0, inside);
  const labels: number[] = [];
  const called: number[] = [];
  const scores: number[] = [];
  figures.forEach(({ slices }, i) => {
    const p = patients[inside[i]!]!;
    const plane = p.h * p.w;
    const maxima = sliceMaxima(p.probs.none!, p.d, plane, 1 / 255);
    for (let z = 0; z < p.d; z++) {
      labels.push(p.truth.subarray(z * plane, (z + 1) * plane).some((v) => v !== 0) ? 1 : 0);
      called.push(slices.pred[z]! > 0 ? 1 : 0);
      scores.push(maxima[z]!);
    }
  });
  const c = confusionFromLabels(called, labels);
  const dices = figures.map((f) => f.dice);
  rows.push({
    fold,
    patients: inside.length,
    meanDice: mean(dices),
    medianDice: median(dices),
    accuracy: accuracy(c),
    recall: recall(c),
    specificity: specificity(c),
    auc: rocAuc(scores, labels),
  });
}

const f3 = (x: number) => x.toFixed(3);
const columns = ['meanDice', 'medianDice', 'accuracy', 'recall', 'specificity', 'auc'] as const;
console.log(`fixed decision: pixel threshold ${threshold}, no TTA, no gate, largest 3-D component`);
console.log(['fold', 'patients', ...columns].join('\t'));
for (const r of rows) console.log([r.fold, r.patients, ...columns.map((k) => f3(r[k]))].join('\t'));
console.log(
  [
    'mean ± sd',
    rows.reduce((n, r) => n + r.patients, 0),
    ...columns.map((k) => {
      const xs = rows.map((r) => r[k]);
      return xs.length > 1 ? `${f3(mean(xs))} ± ${f3(sampleStandardDeviation(xs))}` : f3(xs[0]!);
    }),
  ].join('\t'),
);
const all = table.dice[0]!;
console.log(
  `all ${all.length} patients: mean Dice ${mean([...all]).toFixed(4)}, median ${median([...all]).toFixed(4)}`,
);
