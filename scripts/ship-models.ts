// Ships a trained classifier and/or segmenter as tumorscope's default models: copies their weights and training
// logs into models/ (the log as <kind>.log.jsonl, where `evaluate` finds it for the report's training curves) and
// adds to each JSON config a `card`, then writes a short model card per model (scripts/model-card.ts). A model
// whose split held test patients ships with their figures (an evaluation's metrics.json and
// postprocess-steps.json, never typed by hand); a model trained on every development patient (a split without
// test patients) has none to show: its card keeps its validation figures (optimistic: they chose the epoch) and
// says that the cross-validation of its recipe (scripts/ship-cv-choice.ts) is the estimate. The machine's
// absolute paths in what is written (recorded commands, split files) are made portable.
//
//   node --import tsx scripts/ship-models.ts --classifier RUN/best --segmenter RUN/best --evaluation EVAL_DIR \
//     --evaluation-command "tumorscope evaluate ..."
//   node --import tsx scripts/ship-models.ts --segmenter FINAL_RUN/best        # trained on all 80, no test split
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { portablePaths, writeJsonAtomic } from '../src/engine/index.ts';
import { trainingLogCandidates } from '../src/pipeline/model-training-log.ts';
import { decisionInWords, type ModelKind, modelCardMarkdown } from './model-card.ts';

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
if (!values.classifier && !values.segmenter)
  throw new Error('--classifier or --segmenter (or both) is required');
if (values.evaluation && !values['evaluation-command'])
  throw new Error('--evaluation-command is required with --evaluation: the command that wrote it');
const out = values.out!;
// biome-ignore lint/suspicious/noExplicitAny: JSON read for copying figures, validated where it was written.
type Json = any;
const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8'));
const metrics = values.evaluation ? readJson(join(values.evaluation, 'metrics.json')) : undefined;

const round = (x: number | null) => (x === null ? null : Math.round(x * 10000) / 10000);

interface Trained {
  config: Json;
  split: Json;
  /** Patients held out of training and validation: the test split (none for a final model). */
  testPatients: number;
}

function readTrained(kind: ModelKind, base: string): Trained {
  const config = readJson(`${base}.json`);
  if (config.kind !== kind) throw new Error(`${base}.json: a ${config.kind}, not a ${kind}`);
  const splitPath = config.training?.split;
  if (!splitPath) throw new Error(`${base}.json: no training split recorded`);
  const split = readJson(splitPath);
  const testPatients = split.splits.test?.patients.length ?? 0;
  if (testPatients > 0 && !metrics)
    throw new Error(
      `${base}.json: its split (${splitPath}) holds ${testPatients} test patients: pass --evaluation, an evaluate run on them`,
    );
  if (testPatients === 0 && metrics)
    throw new Error(`${base}.json: its split has no test patients, so --evaluation cannot be its test`);
  return { config, split, testPatients };
}

function developmentInWords({ split, testPatients }: Trained): string {
  const sp = split.splits;
  const method = `patient-level split stratified by institution, seed ${split.seed}`;
  if (testPatients === 0)
    return `all ${sp.train.patients.length + sp.val.patients.length} development patients: ${sp.train.patients.length} training / ${sp.val.patients.length} validation (early stopping and the best epoch), none held out for testing (${method}; ${sp.train.slices} / ${sp.val.slices} slices)`;
  return `${sp.train.patients.length} training / ${sp.val.patients.length} validation / ${sp.test.patients.length} test patients (${method}; ${sp.train.slices} / ${sp.val.slices} / ${sp.test.slices} slices)`;
}

function limits(task: string, trained: Trained): string[] {
  const patients = trained.split.splits.train.patients.length;
  return [
    `Trained on ${patients} patients of the 80-patient development part of the LGG MRI Segmentation dataset (TCGA lower-grade glioma, 5 institutions), from scratch (no ImageNet weights); not validated on other scanners, sequences, tumour types or populations.`,
    `${task} the FLAIR abnormality as the dataset annotates it, on 256×256 RGB slices (pre-contrast, FLAIR, post-contrast).`,
    trained.testPatients > 0
      ? `Test figures come from ${trained.testPatients} held-out patients: few, so their uncertainty is large.`
      : 'No patient was held out of its training: its own figures are validation figures, optimistic because they chose the epoch; the cross-validation of its recipe is the estimate for patients never seen.',
    'Research use only: not a medical device, not for diagnosis or treatment decisions.',
  ];
}

/** The figures of the validation patients at the best epoch, as the training run recorded them. */
function validationFigures({ config, split }: Trained): Json {
  const figures = Object.entries(config)
    .filter(([key, value]) => key.startsWith('val_') && typeof value === 'number')
    .map(([key, value]) => [key, round(value as number)]);
  return {
    patients: split.splits.val.patients.length,
    bestEpoch: config.bestEpoch,
    ...Object.fromEntries(figures),
  };
}

const evaluation = metrics && {
  command: values['evaluation-command'],
  commit: metrics.commit,
  split: `test split of split.json (seed ${metrics.seed}): ${metrics.data.patients} patients, ${metrics.data.slices} slices, ${metrics.data.tumourSlices} with tumour`,
};

/** Whether each model's training log was found and shipped. */
const shippedLog: Record<string, boolean> = {};

function ship(kind: ModelKind, base: string, trained: Trained, card: Json): void {
  copyFileSync(`${base}.safetensors`, join(out, `${kind}.safetensors`));
  const log = trainingLogCandidates(base).find((p) => existsSync(p));
  shippedLog[kind] = log !== undefined;
  if (log !== undefined) copyFileSync(log, join(out, `${kind}.log.jsonl`));
  else {
    // A log left from the models shipped before would show another model's curves.
    rmSync(join(out, `${kind}.log.jsonl`), { force: true });
    console.warn(`warning: no training log beside ${base}: ${kind} ships without its training curves`);
  }
  // The split file stays on the training machine; the patients it names travel with the model, so that
  // `evaluate` can warn when it is run on them (runs from before training recorded them lack the list).
  const sp = trained.split.splits;
  const training = {
    ...trained.config.training,
    patients: trained.config.training.patients ?? { train: sp.train.patients, val: sp.val.patients },
  };
  writeJsonAtomic(
    join(out, `${kind}.json`),
    JSON.parse(portable(JSON.stringify({ ...trained.config, training, card }))),
  );
}

/** The figures a card carries: the test split's when there was one, else the validation's. */
function measured(trained: Trained, test: () => Json): Json {
  return trained.testPatients > 0 ? { evaluation, test: test() } : { validation: validationFigures(trained) };
}

// Both runs are checked before anything is written, so that a refused one leaves the shipped pair as it was.
const classifierRun = values.classifier ? readTrained('classifier', values.classifier) : undefined;
const segmenterRun = values.segmenter ? readTrained('segmenter', values.segmenter) : undefined;

if (values.classifier && classifierRun) {
  const trained = classifierRun;
  ship('classifier', values.classifier, trained, {
    name: `tumorscope classifier: DenseNet121 at ${trained.config.preprocess.width} px`,
    task: 'P(tumour) of one MRI slice; tumour iff P >= threshold',
    training: { data: developmentInWords(trained), command: trained.config.training.command },
    ...measured(trained, () => {
      const c = metrics.classification;
      return {
        accuracy: round(c.accuracy),
        precision: round(c.precision),
        recall: round(c.recall),
        specificity: round(c.specificity),
        f1: round(c.f1),
        auc: round(c.auc),
        confusion: c.confusion,
      };
    }),
    limits: limits('Detects slices with', trained),
  });
}

if (values.segmenter && segmenterRun) {
  const trained = segmenterRun;
  ship('segmenter', values.segmenter, trained, {
    name: `tumorscope segmenter: ResUNet at ${trained.config.preprocess.width} px`,
    task: 'per-pixel tumour probability of a slice, thresholded and post-processed per patient volume',
    training: { data: developmentInWords(trained), command: trained.config.training.command },
    ...measured(trained, () => {
      const e = metrics.endToEnd;
      const steps = readJson(join(values.evaluation!, 'postprocess-steps.json')).steps as Json[];
      return {
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
      };
    }),
    limits: limits('Segments', trained),
  });
}

// The pair's decision reads both configs, so both cards are written again, the model not shipped now included.
const shipped = (kind: ModelKind): Json => readJson(join(out, `${kind}.json`));
const decision = decisionInWords(shipped('segmenter'), shipped('classifier').threshold);
for (const kind of ['classifier', 'segmenter'] as const)
  writeFileSync(
    join(out, `${kind}.md`),
    modelCardMarkdown(kind, shipped(kind), {
      logShipped: shippedLog[kind] ?? existsSync(join(out, `${kind}.log.jsonl`)),
      decision,
    }),
  );
console.log(
  `shipped ${[values.classifier && 'the classifier', values.segmenter && 'the segmenter'].filter(Boolean).join(' and ')} into ${out} and wrote both cards`,
);
if (!metrics)
  console.log(
    "no test split: ship the decision and figures of its recipe's cross-validation next (scripts/ship-cv-choice.ts)",
  );
