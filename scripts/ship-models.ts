// Ships a trained classifier and segmenter as tumorscope's default models: copies their weights and training logs
// into models/ (the log as <kind>.log.jsonl, where `evaluate` finds it for the report's training curves), adds to
// each JSON config a `card` with the measured test-split figures (taken from an evaluation's metrics.json and
// postprocess-steps.json, never typed by hand), and writes a short model card per model (scripts/model-card.ts). The machine's absolute
// paths in what is written (recorded commands, split files) are made portable.
//
//   node --import tsx scripts/ship-models.ts --classifier RUN/best --segmenter RUN/best --evaluation EVAL_DIR \
//     --evaluation-command "tumorscope evaluate ..."
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { portablePaths, writeJsonAtomic } from '../src/engine/index.ts';
import { trainingLogCandidates } from '../src/pipeline/model-training-log.ts';
import { decisionInWords, modelCardMarkdown } from './model-card.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const portable = (text: string) => portablePaths(text, repoRoot);

const { values } = parseArgs({
  options: {
    classifier: { type: 'string' },
    segmenter: { type: 'string' },
    evaluation: { type: 'string' },
    'evaluation-command': { type: 'string' },
    out: { type: 'string', default: 'models' },
  },
});
for (const key of ['classifier', 'segmenter', 'evaluation', 'evaluation-command'] as const) {
  if (!values[key]) throw new Error(`--${key} is required`);
}
const out = values.out!;
// biome-ignore lint/suspicious/noExplicitAny: JSON read for copying figures, validated where it was written.
type Json = any;
const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8'));
const metrics = readJson(join(values.evaluation!, 'metrics.json'));
const steps = readJson(join(values.evaluation!, 'postprocess-steps.json')).steps as Json[];
const split = readJson(metrics.models.segmenter.config.training.split ?? '');

const round = (x: number | null) => (x === null ? null : Math.round(x * 10000) / 10000);

const limits = (task: string) => [
  `Trained on ${split.splits.train.patients.length} patients of the 80-patient development part of the LGG MRI Segmentation dataset (TCGA lower-grade glioma, 5 institutions), from scratch (no ImageNet weights); not validated on other scanners, sequences, tumour types or populations.`,
  `${task} the FLAIR abnormality as the dataset annotates it, on 256×256 RGB slices (pre-contrast, FLAIR, post-contrast).`,
  `Test figures come from ${metrics.data.patients} held-out patients: few, so their uncertainty is large.`,
  'Research use only: not a medical device, not for diagnosis or treatment decisions.',
];

const evaluation = {
  command: values['evaluation-command'],
  commit: metrics.commit,
  split: `test split of split.json (seed ${metrics.seed}): ${metrics.data.patients} patients, ${metrics.data.slices} slices, ${metrics.data.tumourSlices} with tumour`,
};
const sp = split.splits;
const development = `${sp.train.patients.length} training / ${sp.val.patients.length} validation / ${sp.test.patients.length} test patients (patient-level split stratified by institution, seed ${split.seed}; ${sp.train.slices} / ${sp.val.slices} / ${sp.test.slices} slices)`;

/** Whether each model's training log was found and shipped. */
const shippedLog: Record<string, boolean> = {};

function ship(kind: 'classifier' | 'segmenter', base: string, card: Json): Json {
  const config = readJson(`${base}.json`);
  copyFileSync(`${base}.safetensors`, join(out, `${kind}.safetensors`));
  const log = trainingLogCandidates(base).find((p) => existsSync(p));
  shippedLog[kind] = log !== undefined;
  if (log !== undefined) copyFileSync(log, join(out, `${kind}.log.jsonl`));
  else {
    // A log left from the models shipped before would show another model's curves.
    rmSync(join(out, `${kind}.log.jsonl`), { force: true });
    console.warn(`warning: no training log beside ${base}: ${kind} ships without its training curves`);
  }
  const shipped = JSON.parse(portable(JSON.stringify({ ...config, card })));
  writeJsonAtomic(join(out, `${kind}.json`), shipped);
  return shipped;
}

const c = metrics.classification;
const classifier = ship('classifier', values.classifier!, {
  name: `tumorscope classifier: DenseNet121 at ${metrics.models.classifier.config.preprocess.width} px`,
  task: 'P(tumour) of one MRI slice; tumour iff P >= threshold',
  training: { data: development, command: metrics.models.classifier.config.training.command },
  evaluation,
  test: {
    accuracy: round(c.accuracy),
    precision: round(c.precision),
    recall: round(c.recall),
    specificity: round(c.specificity),
    f1: round(c.f1),
    auc: round(c.auc),
    confusion: c.confusion,
  },
  limits: limits('Detects slices with'),
});

const e = metrics.endToEnd;
const segmenter = ship('segmenter', values.segmenter!, {
  name: `tumorscope segmenter: ResUNet at ${metrics.models.segmenter.config.preprocess.width} px`,
  task: 'per-pixel tumour probability of a slice, thresholded and post-processed per patient volume',
  training: { data: development, command: metrics.models.segmenter.config.training.command },
  evaluation,
  test: {
    endToEnd: {
      meanPatientDice: round(e.meanPatientDice),
      medianPatientDice: round(e.medianPatientDice),
      meanPatientIoU: round(e.meanPatientIoU),
    },
    segmenterAlone: {
      meanSliceDice: round(metrics.segmentation.meanSliceDice),
      meanSliceIoU: round(metrics.segmentation.meanSliceIoU),
    },
    postprocessSteps: steps.map((s) => ({
      step: s.step,
      meanPatientDice: round(s.meanPatientDice),
      medianPatientDice: round(s.medianPatientDice),
      meanSliceDice: round(s.meanSliceDice),
      meanSliceIoU: round(s.meanSliceIoU),
    })),
  },
  limits: limits('Segments'),
});

const decision = decisionInWords(segmenter, classifier.threshold);
for (const [kind, shipped] of [
  ['classifier', classifier],
  ['segmenter', segmenter],
] as const)
  writeFileSync(
    join(out, `${kind}.md`),
    modelCardMarkdown(kind, shipped, { logShipped: shippedLog[kind]!, decision }),
  );
console.log(`shipped ${join(out, 'classifier')} and ${join(out, 'segmenter')} with their cards`);
