// `tumorscope evaluate`: the two-stage pipeline on slices with ground truth, scored as docs/METRICS.md defines,
// written as metrics.json, curves.json, figures/ and report.html. The models may take different input sizes:
// the slices are decoded once per size, and predicted masks are compared with the truth at the segmenter's
// size (see evaluation-volumes.ts). The shipped models are evaluated unless others are given.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SplitName } from '../data/split.ts';
import { writeJsonAtomic } from '../engine/index.ts';
import type { CurvesJson } from '../eval/curves-json.ts';
import { buildEvaluation } from '../eval/evaluation.ts';
import type { MetricsJson, ModelInfo } from '../eval/metrics-json.ts';
import { formatMetric, type TrainingLogs, writeEvaluationReport } from '../eval/report/index.ts';
import type { ClassifierRunner, SegmenterRunner, TwoStageModels } from '../inference/two-stage.ts';
import { describeGate, type FusionConfig, type GateChoice, resolveGate } from '../postprocess/fusion.ts';
import { SHIPPED_MODELS } from './default-models.ts';
import { loadEvaluationData, sizeKey } from './evaluation-data.ts';
import { pipelineRecords } from './evaluation-volumes.ts';
import { galleryItems } from './gallery-items.ts';
import {
  buildModel,
  type ClassifierSpec,
  type LoadedModel,
  type LoadedModels,
  readModelSpec,
  runnersOf,
  type SegmenterSpec,
} from './load-model.ts';
import { modelSplit, trainedOnWarning } from './model-split.ts';
import { readModelTrainingLog } from './model-training-log.ts';
import { type PostprocessStep, postprocessSteps } from './postprocess-steps.ts';
import { sha256File, sourceCommit } from './provenance.ts';

export interface EvaluateOptions {
  data: string;
  /** A split manifest; without it every slice of `data` is evaluated. */
  split?: string;
  /** The split's subset to evaluate (default 'test'). */
  subset?: SplitName;
  fold?: number;
  /** Model base paths (`runs/x/best`, with or without .json / .safetensors); the shipped models when absent. */
  classifier?: string;
  segmenter?: string;
  /** The fusion rule instead of the one saved with the models (`--gate`). */
  gate?: GateChoice;
  out: string;
  batch: number;
  /** Best and worst tumour slices shown in the report, each (default 4). */
  galleryCount?: number;
  skipBadFiles?: boolean;
  /** false: read a kaggle_3m folder without data.csv (the CLI's --no-metadata). */
  requireMetadata?: boolean;
  /** Also score each post-processing step on its own (one more segmenter pass, four with TTA): postprocess-steps.json. */
  postprocessSteps?: boolean;
  /** The engine the networks run on (`--backend`): runnersOf (libtorch) when absent. */
  runnersOf?: (models: LoadedModels) => Promise<TwoStageModels>;
  log: (line: string) => void;
}

export interface EvaluateResult {
  metrics: MetricsJson;
  curves: CurvesJson;
  /** Files written, relative to `out`; report.html is the last. */
  files: string[];
  /** With `postprocessSteps`: each step's scores, also in postprocess-steps.json. */
  steps?: PostprocessStep[];
  reportPath: string;
  scope: string;
  /** Said while evaluating and again at the end: evaluated patients a model learnt from. */
  warnings: string[];
}

/** Seconds spent in each named phase, for metrics.json. */
class PhaseTimer {
  readonly timings: Record<string, number> = {};
  async run<T>(phase: string, fn: () => T | Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.timings[phase] = (this.timings[phase] ?? 0) + (performance.now() - started) / 1000;
    }
  }
}

/** The runners with the time spent in each network added to the timer's 'classify' and 'segment'. */
function timed(models: TwoStageModels, timer: PhaseTimer): TwoStageModels {
  timer.timings['classify'] ??= 0;
  timer.timings['segment'] ??= 0;
  const classifier: ClassifierRunner = {
    ...models.classifier,
    run: (input, n) => timer.run('classify', () => models.classifier.run(input, n)),
  };
  const segmenter: SegmenterRunner = {
    ...models.segmenter,
    run: (input, n) => timer.run('segment', () => models.segmenter.run(input, n)),
  };
  return { classifier, segmenter };
}

/** What metrics.json says about a model; the segmenter's config with the fusion rule the evaluation used. */
function modelInfo(loaded: LoadedModel, gate?: FusionConfig): ModelInfo {
  return {
    name: loaded.config.architecture,
    config: { ...loaded.config, ...(gate ? { fusion: gate } : {}), base: loaded.base },
    files: [loaded.files.weights, loaded.files.config].map((path) => ({ path, sha256: sha256File(path) })),
  };
}

export async function evaluatePipeline(o: EvaluateOptions): Promise<EvaluateResult> {
  const paths = {
    classifier: o.classifier ?? SHIPPED_MODELS.classifier,
    segmenter: o.segmenter ?? SHIPPED_MODELS.segmenter,
  };
  const timer = new PhaseTimer();
  // Both configs are checked before either network is built, so a bad --segmenter fails at once.
  const specs = {
    classifier: readModelSpec(paths.classifier, 'classifier') as ClassifierSpec,
    segmenter: readModelSpec(paths.segmenter, 'segmenter') as SegmenterSpec,
  };
  const { classifier, segmenter } = await timer.run('load models', () => ({
    // Inference only: batch norms folded, channels-last (see buildModel).
    classifier: buildModel(specs.classifier, { inference: true }),
    segmenter: buildModel(specs.segmenter, { inference: true }),
  }));
  const classifierSize = { width: classifier.preprocess.width, height: classifier.preprocess.height };
  const segmenterSize = { width: segmenter.preprocess.width, height: segmenter.preprocess.height };
  const threshold = classifier.config.threshold;
  const gate = resolveGate(segmenter.fusion, threshold, o.gate);
  o.log(
    `classifier ${classifier.base} (${sizeKey(classifierSize)}, threshold ${threshold.toFixed(4)}); ` +
      `segmenter ${segmenter.base} (${segmenter.config.architecture}, ${sizeKey(segmenterSize)}, post-processing ${JSON.stringify(segmenter.postprocess)}); ` +
      `gate: ${describeGate(gate)}`,
  );
  const data = await timer.run('decode', () =>
    loadEvaluationData({
      data: o.data,
      split: o.split,
      subset: o.subset ?? 'test',
      fold: o.fold,
      sizes: [classifierSize, segmenterSize],
      skipBadFiles: o.skipBadFiles,
      requireMetadata: o.requireMetadata,
      log: o.log,
    }),
  );
  o.log(`evaluating ${data.scope}`);
  const { indices, caches } = data;
  const segmenterCache = caches.get(sizeKey(segmenterSize))!;
  const evaluated = [...new Set(indices.map((i) => segmenterCache.slices[i]!.patientId))];
  const warnings = [classifier, segmenter].flatMap(
    (m) => trainedOnWarning(m.kind, modelSplit(m.base, m.config), evaluated) ?? [],
  );
  for (const warning of warnings) o.log(`warning: ${warning}`);
  // Each stage's network time, as the core interleaves them patient by patient.
  const untimed = await (o.runnersOf ?? (async (m: LoadedModels) => runnersOf(m)))({ classifier, segmenter });
  const runners = timed(untimed, timer);
  const { records, tumourFinalMasks } = await pipelineRecords(runners, caches, indices, {
    batch: o.batch,
    fusion: gate,
    log: o.log,
  });
  const steps = o.postprocessSteps
    ? await timer.run('post-processing steps', () =>
        postprocessSteps(untimed.segmenter, caches, indices, { batch: o.batch, log: o.log }),
      )
    : undefined;
  const gallery = await timer.run('gallery', () =>
    galleryItems(records, o.galleryCount ?? 4, segmenterCache, tumourFinalMasks),
  );

  const { metrics, curves } = buildEvaluation({
    slices: records,
    threshold,
    models: { classifier: modelInfo(classifier), segmenter: modelInfo(segmenter, gate) },
    commit: sourceCommit(),
    seed: data.splitSeed,
    timings: timer.timings,
  });
  const trainingLogs: TrainingLogs = {
    classifier: readModelTrainingLog(classifier.base, o.log),
    segmenter: readModelTrainingLog(segmenter.base, o.log),
  };
  const written = await writeEvaluationReport(o.out, {
    metrics,
    curves,
    trainingLogs,
    gallery,
    title: `tumorscope evaluation: ${data.scope}`,
  });
  if (steps) {
    mkdirSync(o.out, { recursive: true });
    writeJsonAtomic(join(o.out, 'postprocess-steps.json'), { scope: data.scope, steps });
  }
  return {
    metrics,
    curves,
    steps,
    files: steps ? ['postprocess-steps.json', ...written.files] : written.files,
    reportPath: join(o.out, 'report.html'),
    scope: data.scope,
    warnings,
  };
}

/** The lines printed after an evaluation. */
export function evaluationSummary(result: EvaluateResult): string[] {
  const c = result.metrics.classification;
  const e = result.metrics.endToEnd;
  return [
    `evaluated ${result.scope}`,
    `classifier: accuracy ${formatMetric(c.accuracy)}, AUC ${formatMetric(c.auc)}, recall ${formatMetric(c.recall)}, specificity ${formatMetric(c.specificity)} at threshold ${c.threshold.toFixed(4)}`,
    `end to end: Dice per patient volume mean ${formatMetric(e.meanPatientDice)}, median ${formatMetric(e.medianPatientDice)} (${e.perPatient.length} patients); segmenter alone on tumour slices: mean Dice ${formatMetric(result.metrics.segmentation.meanSliceDice)}`,
    ...(result.steps ?? []).map(
      (s) =>
        `post-processing, segmenter alone: ${s.step}: patient Dice mean ${formatMetric(s.meanPatientDice)}, median ${formatMetric(s.medianPatientDice)}; tumour-slice Dice ${formatMetric(s.meanSliceDice)}, IoU ${formatMetric(s.meanSliceIoU)}`,
    ),
    ...result.warnings.map((w) => `warning: ${w}`),
    `report: ${result.reportPath}`,
    'Research tool, not a medical device: nothing here is a diagnosis.',
  ];
}
