// `tumorscope evaluate`: the two-stage pipeline on slices with ground truth, scored as docs/METRICS.md defines,
// written as metrics.json, curves.json, figures/ and report.html. The models may take different input sizes:
// the slices are decoded once per size, and predicted masks are compared with the truth at the segmenter's
// size (see two-stage.ts).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SplitName } from '../data/split.ts';
import { writeJsonAtomic } from '../engine/index.ts';
import type { CurvesJson } from '../eval/curves-json.ts';
import { buildEvaluation } from '../eval/evaluation.ts';
import type { MetricsJson, ModelInfo } from '../eval/metrics-json.ts';
import { formatMetric, type TrainingLogs, writeEvaluationReport } from '../eval/report/index.ts';
import { loadEvaluationData, sizeKey } from './evaluation-data.ts';
import { galleryItems } from './gallery-items.ts';
import {
  buildModel,
  type ClassifierSpec,
  type LoadedModel,
  readModelSpec,
  type SegmenterSpec,
} from './load-model.ts';
import { readModelTrainingLog } from './model-training-log.ts';
import { type PostprocessStep, postprocessSteps } from './postprocess-steps.ts';
import { sha256File, sourceCommit } from './provenance.ts';
import { classifySlices, patientGroups, pipelineRecords, Segmentation } from './two-stage.ts';

export interface EvaluateOptions {
  data: string;
  /** A split manifest; without it every slice of `data` is evaluated. */
  split?: string;
  /** The split's subset to evaluate (default 'test'). */
  subset?: SplitName;
  fold?: number;
  /** Model base paths (`runs/x/best`, with or without .json / .safetensors); both are required. */
  classifier?: string;
  segmenter?: string;
  out: string;
  batch: number;
  /** Best and worst tumour slices shown in the report, each (default 4). */
  galleryCount?: number;
  skipBadFiles?: boolean;
  /** Also score each post-processing step on its own (one more segmenter pass, four with TTA): postprocess-steps.json. */
  postprocessSteps?: boolean;
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

function requireModels(o: EvaluateOptions): { classifier: string; segmenter: string } {
  // metrics.json scores the pipeline end to end, which needs both stages; half an evaluation is refused rather
  // than written with made-up figures for the missing stage.
  const missing = [o.classifier === undefined && '--classifier', o.segmenter === undefined && '--segmenter'];
  const names = missing.filter((m): m is string => m !== false);
  if (names.length > 0) {
    throw new Error(
      `evaluate needs both models: ${names.join(' and ')} missing (the evaluation scores the two stages end to end)`,
    );
  }
  return { classifier: o.classifier!, segmenter: o.segmenter! };
}

function modelInfo(loaded: LoadedModel): ModelInfo {
  return {
    name: loaded.config.architecture,
    config: { ...loaded.config, base: loaded.base },
    files: [loaded.files.weights, loaded.files.config].map((path) => ({ path, sha256: sha256File(path) })),
  };
}

export async function evaluatePipeline(o: EvaluateOptions): Promise<EvaluateResult> {
  const paths = requireModels(o);
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
  o.log(
    `classifier ${classifier.base} (${sizeKey(classifierSize)}, threshold ${classifier.config.threshold.toFixed(4)}); ` +
      `segmenter ${segmenter.base} (${segmenter.config.architecture}, ${sizeKey(segmenterSize)}, post-processing ${JSON.stringify(segmenter.postprocess)})`,
  );
  const data = await timer.run('decode', () =>
    loadEvaluationData({
      data: o.data,
      split: o.split,
      subset: o.subset ?? 'test',
      fold: o.fold,
      sizes: [classifierSize, segmenterSize],
      skipBadFiles: o.skipBadFiles,
      log: o.log,
    }),
  );
  o.log(`evaluating ${data.scope}`);
  const { indices } = data;
  const classifierCache = data.caches.get(sizeKey(classifierSize))!;
  const segmenterCache = data.caches.get(sizeKey(segmenterSize))!;
  const threshold = classifier.config.threshold;
  const scores = await timer.run('classify', () =>
    classifySlices(classifier, classifierCache, indices, o.batch, o.log),
  );
  const segmentation = new Segmentation(segmenter, segmenterCache, o.batch);
  const { records, tumourFinalMasks } = await timer.run('segment', () =>
    pipelineRecords(segmentation, indices, scores, threshold, o.log),
  );
  const steps = o.postprocessSteps
    ? await timer.run('post-processing steps', () =>
        postprocessSteps(segmentation, patientGroups(indices, segmenterCache)),
      )
    : undefined;
  const gallery = await timer.run('gallery', () =>
    galleryItems(records, o.galleryCount ?? 4, segmentation, tumourFinalMasks),
  );

  const { metrics, curves } = buildEvaluation({
    slices: records,
    threshold,
    models: { classifier: modelInfo(classifier), segmenter: modelInfo(segmenter) },
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
    `report: ${result.reportPath}`,
    'Research tool, not a medical device: nothing here is a diagnosis.',
  ];
}
