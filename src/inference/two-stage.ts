// The two stages on one patient volume: the one place where tumorscope decides, for predict, serve, evaluate and
// the browser alike. Stage 1 scores every slice; the gate (the fusion of the two stages, postprocess/fusion.ts)
// calls slices positive; stage 2 segments them (every slice when the gate reads the segmenter's output, only the
// called ones when the classifier alone decides); the masks are thresholded, the slices the gate rejects emptied,
// and the saved post-processing (small components, largest 3-D component) runs on the whole volume; a slice holds
// tumour when its final mask does (the gate's and the classifier's own calls are returned beside). The networks
// run behind two runners (libtorch-runners.ts in Node, src/export/onnx/onnx-runners.ts in Node or the page), so this file is
// pure and asynchronous and imports nothing platform-specific.
import { type PreprocessConfig, preprocessSlices, volumeStats } from '../data/preprocess.ts';
import { postprocessMask } from '../postprocess/apply.ts';
import type { PostprocessConfig } from '../postprocess/config.ts';
import {
  type FusionConfig,
  needsSegmenterOnEverySlice,
  referenceGate,
  sliceMaxima,
  sliceScores,
} from '../postprocess/fusion.ts';
import { threshold } from '../postprocess/threshold.ts';
import { type ProbabilityNetwork, probabilitiesWithTta } from '../postprocess/tta.ts';
import { batchesOf } from './batch-size.ts';

/** Stage 1: P(tumour) of each of `n` preprocessed slices [n, 3, H, W] (planar float32, batch first). */
export interface ClassifierRunner {
  /** The size and intensity the network expects. */
  preprocess: PreprocessConfig;
  /** The classifier's own decision threshold (the reference gate's). */
  threshold: number;
  run(input: Float32Array, n: number): Promise<Float32Array>;
}

/** Stage 2: tumour probability maps [n, H, W] of `n` preprocessed slices, one pass (flip TTA is added here). */
export interface SegmenterRunner {
  preprocess: PreprocessConfig;
  /** Pixel threshold, small components, largest 3-D component, TTA: saved with the segmenter. */
  postprocess: PostprocessConfig;
  /** The fusion rule saved with the segmenter (`fusion` in its config); absent: the reference gate. */
  fusion?: FusionConfig;
  run: ProbabilityNetwork;
}

export interface TwoStageModels {
  classifier: ClassifierRunner;
  segmenter: SegmenterRunner;
}

/** The gate the models were saved with: their fusion rule, else the classifier alone at its threshold. */
export function savedGate(models: TwoStageModels): FusionConfig {
  return models.segmenter.fusion ?? referenceGate(models.classifier.threshold);
}

/** One patient volume, its slices in order. */
export interface VolumeImages {
  depth: number;
  /** Every slice as interleaved RGB bytes at width × height, one after another (D×H×W×3). */
  rgb(width: number, height: number): Uint8Array;
}

export interface VolumeOptions {
  /** Slices per network call. */
  batch: number;
  /** The fusion rule; savedGate(models) when absent. */
  fusion?: FusionConfig;
  /**
   * Slices whose segmenter-alone output is wanted as well (evaluation scores the segmenter on the true tumour
   * slices): they are segmented whatever the gate says, and `alone` is returned.
   */
  aloneOn?: readonly boolean[];
  /** Called before each network batch; throwing from it stops the work there (a server shutting down). */
  beforeBatch?: () => void;
  /** Called after each classifier batch with the number of slices scored so far. */
  onClassified?: (slices: number) => void;
  /** Return the segmenter's probability maps too (`probabilities`). */
  keepProbabilities?: boolean;
  /**
   * Segment the slices the classifier has called while it scores the next batches, where a slice's call rests
   * on its own score alone (the classifier gate without smoothing, no `aloneOn`). The segmenter's batches are the
   * ones it gets otherwise, so the outputs are the same; it saves time only where the runners work off the
   * JavaScript thread (onnxruntime): libtorch's runner answers before anything else can run.
   */
  overlapStages?: boolean;
}

export interface VolumeOutcome {
  /** The classifier's P(tumour) per slice. */
  probability: Float32Array;
  /** What the gate compared with its threshold (the fused, possibly smoothed, score) per slice. */
  score: Float32Array;
  /**
   * The slice decision, the final output's: the slice's final mask holds tumour. A slice the gate called can
   * still end up empty (the pixel threshold, small components, the largest 3-D component remove it all).
   */
  tumour: boolean[];
  /** What the gate called (its score at or above its threshold), before the masks were made. */
  gateCall: boolean[];
  /** The classifier's own call (P(tumour) at or above its threshold), whichever gate decided. */
  classifierCall: boolean[];
  /**
   * The steps that made a slice's result depend on the other slices of its volume (so that a slice predicted
   * alone can differ from the same slice inside its patient), each in words; empty when none ran.
   */
  volumeSteps: string[];
  /** End to end, D×H×W 0/1 at the segmenter's input size: the slices the gate rejects are empty. */
  final: Uint8Array;
  /** With `aloneOn`: the segmenter alone (no gate), post-processed as one volume; meaningful on those slices. */
  alone?: Uint8Array;
  /**
   * With `keepProbabilities`: per slice, the segmenter's probability map (H×W at its input size, after TTA,
   * before any threshold), or null where the segmenter did not run.
   */
  probabilities?: (Float32Array | null)[];
}

/** The network input of any of the volume's slices at `config`'s size, with the volume's own statistics. */
function networkInput(volume: VolumeImages, config: PreprocessConfig): (indices: number[]) => Float32Array {
  const rgb = volume.rgb(config.width, config.height);
  const stats = config.intensity.kind === 'volume-zscore' ? volumeStats(rgb, config.intensity) : undefined;
  return (indices) => preprocessSlices(rgb, indices, config, () => stats);
}

/** P(tumour) of one batch of the volume's slices. */
async function classifyBatch(
  classifier: ClassifierRunner,
  input: (indices: number[]) => Float32Array,
  chunk: number[],
  o: Pick<VolumeOptions, 'beforeBatch'>,
): Promise<Float32Array> {
  o.beforeBatch?.();
  const p = await classifier.run(input(chunk), chunk.length);
  if (p.length !== chunk.length)
    throw new RangeError(`the classifier returned ${p.length} values for ${chunk.length} slices`);
  return p;
}

/** P(tumour) of every slice of the volume, batch by batch. */
export async function classifyVolume(
  classifier: ClassifierRunner,
  volume: VolumeImages,
  o: Pick<VolumeOptions, 'batch' | 'beforeBatch' | 'onClassified'>,
): Promise<Float32Array> {
  const input = networkInput(volume, classifier.preprocess);
  const out = new Float32Array(volume.depth);
  let done = 0;
  for (const chunk of batchesOf(range(volume.depth), o.batch)) {
    const p = await classifyBatch(classifier, input, chunk, o);
    out.set(p, done);
    done += chunk.length;
    o.onClassified?.(done);
  }
  return out;
}

/**
 * Probability maps (H×W per slice, concatenated in the order of `indices`) of the volume's slices `indices`,
 * with the given TTA (the segmenter's saved one by default).
 */
export async function segmentSlices(
  segmenter: SegmenterRunner,
  volume: VolumeImages,
  indices: readonly number[],
  o: Pick<VolumeOptions, 'batch' | 'beforeBatch'> & { tta?: PostprocessConfig['tta'] },
): Promise<Float32Array> {
  const { preprocess } = segmenter;
  const { width, height } = preprocess;
  const pixels = width * height;
  const out = new Float32Array(indices.length * pixels);
  if (indices.length === 0) return out;
  const input = networkInput(volume, preprocess);
  const tta = o.tta ?? segmenter.postprocess.tta;
  let at = 0;
  for (const chunk of batchesOf([...indices], o.batch)) {
    o.beforeBatch?.();
    const probs = await probabilitiesWithTta(segmenter.run, input(chunk), chunk.length, height, width, tta);
    out.set(probs, at * pixels);
    at += chunk.length;
  }
  return out;
}

/**
 * classifyVolume, then segmentSlices on the slices called at `threshold`, interleaved: each segmenter batch of
 * `batch` called slices (in slice order, as segmentSlices cuts them) starts as soon as the classifier has called
 * them, and runs while the classifier scores the next batches.
 */
async function classifyWhileSegmenting(
  models: TwoStageModels,
  volume: VolumeImages,
  threshold: number,
  o: VolumeOptions,
): Promise<{ probability: Float32Array; run: number[]; probs: Float32Array }> {
  const { classifier, segmenter } = models;
  const { width, height } = segmenter.preprocess;
  const classifierInput = networkInput(volume, classifier.preprocess);
  let segmenterInput: ((indices: number[]) => Float32Array) | undefined;
  const probability = new Float32Array(volume.depth);
  const run: number[] = [];
  const maps: Float32Array[] = [];
  let called: number[] = [];
  let segmenting: Promise<void> = Promise.resolve();
  let failed = false;
  const segment = (chunk: number[]) => {
    segmenting = segmenting.then(async () => {
      o.beforeBatch?.();
      segmenterInput ??= networkInput(volume, segmenter.preprocess);
      const input = segmenterInput(chunk);
      const tta = segmenter.postprocess.tta;
      maps.push(await probabilitiesWithTta(segmenter.run, input, chunk.length, height, width, tta));
    });
    // Seen here at once (so a failure is never unhandled, and the classifier stops); thrown where awaited.
    segmenting.catch(() => {
      failed = true;
    });
  };
  try {
    let done = 0;
    for (const chunk of batchesOf(range(volume.depth), o.batch)) {
      if (failed) break;
      const p = await classifyBatch(classifier, classifierInput, chunk, o);
      probability.set(p, done);
      done += chunk.length;
      o.onClassified?.(done);
      chunk.forEach((k, i) => {
        if (p[i]! < threshold) return;
        run.push(k);
        called.push(k);
      });
      while (called.length >= o.batch) {
        segment(called.slice(0, o.batch));
        called = called.slice(o.batch);
      }
    }
    if (called.length > 0 && !failed) segment(called);
  } catch (err) {
    await segmenting.catch(() => {});
    throw err;
  }
  await segmenting;
  const probs = new Float32Array(run.length * width * height);
  let at = 0;
  for (const m of maps) {
    probs.set(m, at);
    at += m.length;
  }
  return { probability, run, probs };
}

/** Both stages, gated and post-processed, on one patient volume. */
export async function twoStageVolume(
  models: TwoStageModels,
  volume: VolumeImages,
  o: VolumeOptions,
): Promise<VolumeOutcome> {
  const { segmenter } = models;
  const fusion = o.fusion ?? savedGate(models);
  const d = volume.depth;
  const all = range(d);
  if (o.aloneOn && o.aloneOn.length !== d)
    throw new RangeError(`aloneOn has ${o.aloneOn.length} slices, the volume ${d}`);
  const { width, height } = segmenter.preprocess;
  const pixels = width * height;
  const post = segmenter.postprocess;
  const everySlice = needsSegmenterOnEverySlice(fusion);
  const perSlice = fusion.detector === 'classifier' && fusion.sliceRadius === 0 && !o.aloneOn;
  let probability: Float32Array;
  let run: number[];
  let probs: Float32Array;
  if (o.overlapStages && perSlice && !everySlice) {
    ({ probability, run, probs } = await classifyWhileSegmenting(models, volume, fusion.threshold, o));
  } else {
    probability = await classifyVolume(models.classifier, volume, o);
    // The slices stage 2 runs on, decided before it runs so that it runs once, in slice order: every slice when
    // the gate reads the segmenter, else the slices the classifier's score calls (and those asked for alone).
    const classifierOnly = everySlice ? undefined : sliceScores(fusion, { classifier: probability });
    const wanted = (k: number) =>
      everySlice ||
      classifierOnly![k]! >= fusion.threshold ||
      (o.aloneOn !== undefined && (post.largest3DComponent || o.aloneOn[k]!));
    run = all.filter(wanted);
    probs = await segmentSlices(segmenter, volume, run, o);
  }
  const classifierOnly = everySlice ? undefined : sliceScores(fusion, { classifier: probability });

  const score =
    classifierOnly ??
    sliceScores(fusion, { classifier: probability, segmenterMax: sliceMaxima(probs, d, pixels) });
  const called = Array.from(score, (s) => s >= fusion.threshold);
  const raw = new Uint8Array(d * pixels);
  const masks = threshold(probs, post.threshold);
  run.forEach((k, r) => {
    raw.set(masks.subarray(r * pixels, (r + 1) * pixels), k * pixels);
  });
  const gated = raw.slice();
  called.forEach((c, k) => {
    if (!c) gated.fill(0, k * pixels, (k + 1) * pixels);
  });
  const final = postprocessMask(gated, d, height, width, post);
  const tumour = all.map((k) => holdsTumour(final, k, pixels));
  const classifierCall = Array.from(probability, (p) => p >= models.classifier.threshold);
  const outcome: VolumeOutcome = {
    probability,
    score,
    tumour,
    gateCall: called,
    classifierCall,
    final,
    volumeSteps: volumeSteps(models, fusion, d),
  };
  if (o.aloneOn) outcome.alone = postprocessMask(raw, d, height, width, post);
  if (o.keepProbabilities) {
    outcome.probabilities = all.map(() => null);
    run.forEach((k, r) => {
      outcome.probabilities![k] = probs.subarray(r * pixels, (r + 1) * pixels);
    });
  }
  return outcome;
}

/**
 * The steps that read the whole patient volume, in words, for a volume of `depth` slices. On one slice they ran
 * on it alone, so the same slice inside its patient's folder can come out otherwise: the words say so.
 */
export function volumeSteps(models: TwoStageModels, fusion: FusionConfig, depth: number): string[] {
  const where =
    depth === 1
      ? 'on this one slice alone (inside its patient folder the slice can come out otherwise)'
      : "across the patient's slices (a slice's result depends on the others given with it)";
  const steps: string[] = [];
  if (models.segmenter.postprocess.largest3DComponent) steps.push(`largest 3-D component ${where}`);
  if (fusion.sliceRadius > 0) steps.push(`gate score averaged along ±${fusion.sliceRadius} slices ${where}`);
  for (const [stage, runner] of [
    ['classifier', models.classifier],
    ['segmenter', models.segmenter],
  ] as const) {
    if (runner.preprocess.intensity.kind === 'volume-zscore')
      steps.push(`${stage} input normalised by volume statistics ${where}`);
    const n = runner.preprocess.neighbours ?? 0;
    if (n > 0) steps.push(`${stage} input stacks ±${n} neighbouring slice${n > 1 ? 's' : ''} ${where}`);
  }
  return steps;
}

function holdsTumour(mask: Uint8Array, k: number, pixels: number): boolean {
  for (let i = k * pixels; i < (k + 1) * pixels; i++) if (mask[i] !== 0) return true;
  return false;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, k) => k);
}
