// Ships the decision a cross-validation chose with the default models: the segmenter's post-processing (pixel
// threshold, components, largest 3-D component, TTA) and the fusion of the two stages (the slice decision) are
// replaced by those chosen on all out-of-fold patients (cv-metrics.json's `config`), and both model cards gain
// the cross-validation's figures (mean ± sd over folds, and over all out-of-fold patients: the nested estimate,
// every decision made on the other folds). Weights and test-split figures stay; the cards say which decision the
// test-split figures were measured with.
//
//   node --import tsx scripts/ship-cv-choice.ts --cv models/cv --command "tumorscope cv report --data DATA --out models/cv" \
//     [--fold-models models/cv] [--note "what a reader must know"]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readSplitManifest } from '../src/data/split-manifest.ts';
import { writeJsonAtomic } from '../src/engine/index.ts';
import { cvSummarySchema, overFolds } from '../src/eval/cv-summary.ts';
import { cvMetricsPath } from '../src/pipeline/cv-report.ts';
import { decisionInWords, type ModelKind, modelCardMarkdown } from './model-card.ts';

const { values } = parseArgs({
  options: {
    cv: { type: 'string', default: 'models/cv' },
    command: { type: 'string' },
    // What a reader must know about this CV beside its figures, e.g. folds trained with another recipe.
    note: { type: 'string' },
    models: { type: 'string', default: 'models' },
    // Where the fold models (and their training commands) are committed.
    'fold-models': { type: 'string', default: 'models/cv' },
  },
});
if (!values.command)
  throw new Error('--command is required: the cv report command that wrote cv-metrics.json');

const metricsPath = cvMetricsPath(values.cv!);
const parsed = cvSummarySchema.safeParse(JSON.parse(readFileSync(metricsPath, 'utf8')));
if (!parsed.success) throw new Error(`${metricsPath}: not a cv-metrics.json (${parsed.error.message})`);
const cv = parsed.data;
if (!cv.commit) throw new Error(`${metricsPath}: no commit recorded; run the cv report again`);
const split = readSplitManifest(join(values.cv!, 'split.json'));
if (split.kind !== 'k-fold') throw new Error(`${values.cv}/split.json: not a k-fold split`);

// biome-ignore lint/suspicious/noExplicitAny: shipped JSON configs, validated when loaded by the models.
type Json = any;
const configPath = (kind: ModelKind) => join(values.models!, `${kind}.json`);
const read = (kind: ModelKind): Json => JSON.parse(readFileSync(configPath(kind), 'utf8'));
const classifier = read('classifier');
const segmenter = read('segmenter');

const byFold = <T>(pick: (f: (typeof cv.folds)[number]) => T) => cv.folds.map(pick);
const crossValidation = {
  patients: cv.patients,
  folds: cv.folds.length,
  split: `patients dealt into ${split.k} folds stratified by institution, seed ${split.seed}`,
  command: values.command,
  commit: cv.commit,
  weights: `The shipped weights are not fold models: they were trained on the development split under Training data, by the command shown (the folds' commands are in each fold's best.json under ${values['fold-models']}). The cross-validation estimates how the recipe and the decision above do on patients never seen.`,
  ...(values.note ? { note: values.note } : {}),
  chosen: cv.config,
  overFolds: {
    meanPatientDice: overFolds(byFold((f) => f.endToEnd.meanPatientDice)),
    medianPatientDice: overFolds(byFold((f) => f.endToEnd.medianPatientDice)),
    accuracy: overFolds(byFold((f) => f.classification.accuracy)),
    auc: overFolds(byFold((f) => f.classification.auc)),
    recall: overFolds(byFold((f) => f.classification.recall)),
    specificity: overFolds(byFold((f) => f.classification.specificity)),
    classifierAccuracy: overFolds(byFold((f) => f.classifierAlone?.accuracy ?? null)),
    classifierAuc: overFolds(byFold((f) => f.classifierAlone?.auc ?? null)),
  },
  outOfFold: {
    meanPatientDice: cv.oof.endToEnd.meanPatientDice,
    medianPatientDice: cv.oof.endToEnd.medianPatientDice,
    meanPatientIoU: cv.oof.endToEnd.meanPatientIoU,
    accuracy: cv.oof.classification.accuracy,
    auc: cv.oof.classification.auc,
    recall: cv.oof.classification.recall,
    specificity: cv.oof.classification.specificity,
    classifierAccuracy: cv.oof.classifierAlone?.accuracy ?? null,
    classifierAuc: cv.oof.classifierAlone?.auc ?? null,
  },
};

/** What the classifier does in the shipped pair, by the slice decision's detector. */
const CLASSIFIER_ROLE: Record<typeof cv.config.fusion.detector, string> = {
  classifier: 'Its call decides which slices are segmented.',
  mean: "Its P(tumour) is half of the fused score (the mean with the segmenter's largest pixel probability) that decides which slices keep a mask; its own call is reported beside the final decision, named as the classifier's.",
  segmenter:
    "Its own call is reported beside the final decision (named as the classifier's) and does not change the mask.",
};

const before = `${decisionInWords(segmenter, classifier.threshold)}; masks: ${JSON.stringify(segmenter.postprocess)}`;
const c = cv.config;
segmenter.threshold = c.segmenter.threshold;
segmenter.postprocess = {
  threshold: c.segmenter.threshold,
  minComponentArea: c.segmenter.minComponentArea,
  largest3DComponent: c.largest3DComponent,
  tta: c.segmenter.tta,
};
segmenter.fusion = c.fusion;
segmenter.postprocessRule = `the configuration with the best mean per-patient Dice on the out-of-fold predictions of all ${cv.patients} cross-validation patients (${cv.candidatesScored} candidates: fusion of the two stages, pixel threshold, components, largest 3-D component, TTA)`;
const decision = decisionInWords(segmenter, classifier.threshold);
const testNote = `Measured before the cross-validation, with the decision shipped then (${before}).`;
for (const [kind, config] of [
  ['classifier', classifier],
  ['segmenter', segmenter],
] as const) {
  config.card.crossValidation = crossValidation;
  // A second run keeps the note: the decision shipped then is no longer in the config. A model trained on
  // every development patient has no test figures to annotate.
  if (config.card.test) config.card.test.note ??= testNote;
  if (kind === 'classifier') config.card.role = CLASSIFIER_ROLE[c.fusion.detector];
  writeJsonAtomic(configPath(kind), config);
  const logShipped = existsSync(join(values.models!, `${kind}.log.jsonl`));
  writeFileSync(
    join(values.models!, `${kind}.md`),
    modelCardMarkdown(kind, config, { logShipped, decision }),
  );
}
console.log(`shipped the decision of ${metricsPath} with ${values.models}: ${decision}`);
