// Rebuilding a trained model from what training saved: `<base>.json` (kind, architecture, network config,
// preprocessing, threshold) and `<base>.safetensors` (weights, loaded strictly, so a config that does not match
// the weights fails here rather than producing silent garbage). Every error names the file at fault.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { inputChannels, type PreprocessConfig, preprocessConfigSchema } from '../data/preprocess.ts';
import { loadWeightsInto, type Module, modelPaths, readModelConfig } from '../engine/index.ts';
import { libtorchRunners } from '../inference/libtorch-runners.ts';
import type { TwoStageModels } from '../inference/two-stage.ts';
import { DenseNet } from '../models/densenet.ts';
import { optimizeForInference } from '../models/optimize-for-inference.ts';
import { ResUNet } from '../models/resunet.ts';
import { UNet } from '../models/unet.ts';
import { NO_POSTPROCESS, type PostprocessConfig, parsePostprocessConfig } from '../postprocess/config.ts';
import { type FusionConfig, fusionConfigSchema } from '../postprocess/fusion.ts';

const densenetSchema = z.object({
  growthRate: z.number().int().positive(),
  blockConfig: z.array(z.number().int().positive()).min(1),
  numInitFeatures: z.number().int().positive(),
  bnSize: z.number().int().positive(),
  dropRate: z.number().min(0).max(1),
  numClasses: z.literal(2),
  headDropout: z.number().min(0).max(1),
  headHidden: z.number().int().nonnegative(),
  bnEps: z.number().positive().optional(),
});

const encoderDecoderSchema = z.object({
  /** 3, or 3 per stacked slice for 2.5-D input (preprocess.neighbours). */
  inChannels: z.number().int().positive(),
  outChannels: z.literal(1),
  features: z.number().int().positive(),
  depth: z.number().int().positive(),
});

const probability = z.number().min(0).max(1);

const classifierConfigSchema = z.looseObject({
  kind: z.literal('classifier'),
  architecture: z.literal('densenet121'),
  densenet: densenetSchema,
  preprocess: preprocessConfigSchema,
  /** Predict tumour iff P(tumour) >= threshold; chosen on validation after training. */
  threshold: probability,
});

const segmenterConfigSchema = z.looseObject({
  kind: z.literal('segmenter'),
  architecture: z.enum(['resunet', 'unet']),
  network: encoderDecoderSchema,
  preprocess: preprocessConfigSchema,
  threshold: probability,
  /** Validated by parsePostprocessConfig (src/postprocess); absent in models saved before it existed. */
  postprocess: z.unknown().optional(),
  /**
   * The fusion of the two stages chosen for this pair (src/postprocess/fusion.ts): which slices the segmenter's
   * masks are kept on. Absent: the reference gate, the classifier alone at its own threshold.
   */
  fusion: fusionConfigSchema.optional(),
});

export type ClassifierConfig = z.infer<typeof classifierConfigSchema>;
export type SegmenterConfig = z.infer<typeof segmenterConfigSchema>;

/** A model's validated config and file paths: everything but the network itself. */
interface Spec {
  /** The base path without extension. */
  base: string;
  files: { config: string; weights: string };
  preprocess: PreprocessConfig;
}

export interface ClassifierSpec extends Spec {
  kind: 'classifier';
  config: ClassifierConfig;
}

export interface SegmenterSpec extends Spec {
  kind: 'segmenter';
  config: SegmenterConfig;
  /** Threshold, small components, largest 3-D component, TTA; the bare threshold for older models. */
  postprocess: PostprocessConfig;
  /** The saved fusion rule; absent: the reference gate. */
  fusion?: FusionConfig;
}

export type ModelSpec = ClassifierSpec | SegmenterSpec;
export type ModelKind = ModelSpec['kind'];

export type LoadedClassifier = ClassifierSpec & { model: Module };
export type LoadedSegmenter = SegmenterSpec & { model: Module };
export type LoadedModel = LoadedClassifier | LoadedSegmenter;

/** Both stages, built for inference. */
export interface LoadedModels {
  classifier: LoadedClassifier;
  segmenter: LoadedSegmenter;
}

/** A model base path (`runs/x/best`), accepted with or without `.json` / `.safetensors`. */
export function modelBase(path: string): string {
  return path.replace(/\.(safetensors|json)$/, '');
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 4)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Reads and checks a saved model's config (and that its weights file exists) without building the network,
 * so that every bad input is reported before any slow work; `expected` refuses the other kind.
 */
export function readModelSpec(path: string, expected?: ModelKind): ModelSpec {
  const base = modelBase(path);
  const files = modelPaths(base);
  const raw = readModelConfig<unknown>(base);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${files.config}: not a model config (a JSON object)`);
  }
  const kind = (raw as { kind?: unknown }).kind;
  if (kind !== 'classifier' && kind !== 'segmenter') {
    throw new Error(`${files.config}: kind ${JSON.stringify(kind)} is neither 'classifier' nor 'segmenter'`);
  }
  if (expected !== undefined && kind !== expected) {
    throw new Error(`${files.config}: this is a ${kind} model, but a ${expected} was expected`);
  }
  if (!existsSync(files.weights)) throw new Error(`${files.weights}: model weights not found`);

  if (kind === 'classifier') {
    if (typeof (raw as { threshold?: unknown }).threshold !== 'number') {
      // Training adds the threshold after its last epoch: a run still going has a best.json without one.
      throw new Error(
        `${files.config}: no decision threshold (training saves it when the run finishes; is it still running?)`,
      );
    }
    const parsed = classifierConfigSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(
        `${files.config}: not a classifier config this version can build (${describeIssues(parsed.error)})`,
      );
    }
    if (parsed.data.preprocess.neighbours)
      throw new Error(
        `${files.config}: preprocess.neighbours: the classifier takes one slice, not neighbours`,
      );
    return { kind, base, files, config: parsed.data, preprocess: parsed.data.preprocess };
  }
  const parsed = segmenterConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `${files.config}: not a segmenter config this version can build (${describeIssues(parsed.error)})`,
    );
  }
  const config = parsed.data;
  if (config.network.inChannels !== inputChannels(config.preprocess))
    throw new Error(
      `${files.config}: network.inChannels is ${config.network.inChannels}, but preprocess stacks ${inputChannels(config.preprocess)} channels`,
    );
  let postprocess: PostprocessConfig;
  try {
    postprocess =
      config.postprocess === undefined
        ? { ...NO_POSTPROCESS, threshold: config.threshold }
        : parsePostprocessConfig(config.postprocess);
  } catch (err) {
    throw new Error(`${files.config}: ${(err as Error).message}`);
  }
  return {
    kind,
    base,
    files,
    config,
    preprocess: config.preprocess,
    postprocess,
    ...(config.fusion ? { fusion: config.fusion } : {}),
  };
}

export interface BuildOptions {
  /**
   * Inference only (predict, serve, evaluate): batch norms folded into their convolutions and weights laid out
   * channels-last (optimizeForInference in src/models/optimize-for-inference.ts). The same outputs to float rounding, faster;
   * the network is in eval mode and can no longer train.
   */
  inference?: boolean;
}

/** Builds the network a spec describes and loads its weights strictly (every key, every shape). */
export function buildModel(spec: ClassifierSpec, options?: BuildOptions): LoadedClassifier;
export function buildModel(spec: SegmenterSpec, options?: BuildOptions): LoadedSegmenter;
export function buildModel(spec: ModelSpec, options?: BuildOptions): LoadedModel;
export function buildModel(spec: ModelSpec, options: BuildOptions = {}): LoadedModel {
  if (spec.kind === 'classifier') {
    const model = new DenseNet(spec.config.densenet);
    loadWeightsInto(spec.base, model, { strict: true });
    if (options.inference) optimizeForInference(model);
    return { ...spec, model };
  }
  // Built from the saved network config itself (not from a width multiplier), so the layers are exactly the
  // ones trained.
  const { architecture, network } = spec.config;
  const model = architecture === 'resunet' ? new ResUNet(network) : new UNet(network);
  loadWeightsInto(spec.base, model, { strict: true });
  if (options.inference) optimizeForInference(model);
  return { ...spec, model };
}

/**
 * readModelSpec, then buildModel: `{ model, config, … }` in eval mode, the layers as saved (export folds them
 * itself; predict, serve and evaluate build with `{ inference: true }` instead, see default-models.ts).
 */
export function loadModel(path: string, expected?: ModelKind): LoadedModel {
  const loaded = buildModel(readModelSpec(path, expected));
  loaded.model.eval();
  return loaded;
}

/** The loaded pair as the two-stage core runs it (src/inference/two-stage.ts). */
export function runnersOf(models: LoadedModels): TwoStageModels {
  const { classifier, segmenter } = models;
  return libtorchRunners({ ...classifier, threshold: classifier.config.threshold }, segmenter);
}
