// Checked parsers for option values, shared by every command: commander calls them while it reads the command
// line, so a bad value stops the command before any work, with a message naming the option (commander adds the
// value). Without them Number('abc') is NaN and Number('') is 0, and both travel on into hours of training.
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { SamplingConfig } from '../data/sampler.ts';
import { BACKEND_SETTINGS, type BackendSetting } from '../export/backend-choice.ts';
import {
  DEFAULT_TRAINING_LAYOUT,
  DEFAULT_TRAINING_PRECISION,
  TRAINING_LAYOUTS,
  TRAINING_PRECISIONS,
} from '../models/training.ts';
import { type GateChoice, type GateName, gateNames } from '../postprocess/fusion.ts';
import { SEGMENTATION_LOSSES } from '../train/segmentation-loss.ts';
import { SEGMENTER_ARCHITECTURES, SEGMENTER_DEFAULTS } from '../train/segmenter.ts';

type Parser<T> = (value: string) => T;

/** A whole number written in decimal digits, from `min` to `max`, optionally a multiple of `multipleOf`. */
export function integer(
  option: string,
  range: { min?: number; max?: number; multipleOf?: number; why?: string } = {},
): Parser<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, multipleOf = 1 } = range;
  const rule = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`${option} must be ${rule}`);
    if (n % multipleOf !== 0)
      throw new InvalidArgumentError(
        `${option} must be a multiple of ${multipleOf}${range.why ? ` (${range.why})` : ''}`,
      );
    return n;
  };
}

/** A finite number above 0 (a learning rate, a width multiplier). */
export function positiveNumber(option: string): Parser<number> {
  return (value) => {
    const x = finite(value);
    if (x === undefined || x <= 0) throw new InvalidArgumentError(`${option} must be a number above 0`);
    return x;
  };
}

/** A probability that leaves something: 0 ≤ p < 1 (a dropout rate). */
export function probability(option: string): Parser<number> {
  return (value) => {
    const x = finite(value);
    if (x === undefined || x < 0 || x >= 1)
      throw new InvalidArgumentError(`${option} must be a number from 0 to below 1`);
    return x;
  };
}

/** A number from 0 to 1, both included (a score threshold). */
export function unitInterval(option: string): Parser<number> {
  return (value) => {
    const x = finite(value);
    if (x === undefined || x < 0 || x > 1)
      throw new InvalidArgumentError(`${option} must be a number from 0 to 1`);
    return x;
  };
}

/** A share strictly between 0 and 1 (a validation fraction). */
export function fraction(option: string): Parser<number> {
  return (value) => {
    const x = finite(value);
    if (x === undefined || x <= 0 || x >= 1)
      throw new InvalidArgumentError(`${option} must lie between 0 and 1`);
    return x;
  };
}

/** 'uniform', 'class-balanced', 'tumour-only' or 'oversample:<factor ≥ 1>'. */
export function sampling(option: string): Parser<SamplingConfig> {
  return (value) => {
    if (value === 'uniform' || value === 'class-balanced' || value === 'tumour-only') return { kind: value };
    const m = /^oversample:(\d+(?:\.\d+)?)$/.exec(value);
    if (m && Number(m[1]) >= 1) return { kind: 'tumour-oversampling', factor: Number(m[1]) };
    throw new InvalidArgumentError(
      `${option} must be uniform, class-balanced, tumour-only or oversample:<factor>, a factor ≥ 1`,
    );
  };
}

/** Cross-entropy class weights: 'balanced' or '<no tumour>,<tumour>', two numbers above 0. */
export function classWeights(option: string): Parser<'balanced' | [number, number]> {
  return (value) => {
    if (value === 'balanced') return value;
    const w = value.split(',').map(finite);
    if (w.length !== 2 || w.some((x) => x === undefined || x <= 0))
      throw new InvalidArgumentError(`${option} must be 'balanced' or two numbers above 0, as 1,3`);
    return w as [number, number];
  };
}

/** What the commands that run both stages (predict, serve, evaluate) share: the models, the gate, the work. */
export interface InferenceValues {
  classifier?: string;
  segmenter?: string;
  gate?: GateName;
  gateThreshold?: number;
  sliceRadius?: number;
  threads?: number;
  batch: number;
  backend: BackendSetting;
}

/**
 * The engine predict, serve and evaluate run on unless told otherwise. libtorch: `auto` measures on first use
 * (eight network calls per stage, then cached per machine and model), and evaluation's figures should not hang on
 * a timing.
 */
export const DEFAULT_BACKEND: BackendSetting = 'torch';

/** Adds the options of InferenceValues; `batch` is the default batch size. */
export function inferenceOptions(command: Command, defaults: { batch: number }): Command {
  return command
    .option('--classifier <model>', 'stage 1 model base path (default: the shipped models/classifier)')
    .option('--segmenter <model>', 'stage 2 model base path (default: the shipped models/segmenter)')
    .addOption(
      new Option(
        '--gate <rule>',
        'which slices keep their mask: the classifier alone (the reference gate), the segmenter, the mean of ' +
          'both, or none (default: the rule saved with the segmenter, else classifier)',
      ).choices([...gateNames]),
    )
    .option(
      '--gate-threshold <p>',
      "the gate's slice threshold (default: the saved one; the classifier's own; 0.5 otherwise)",
      unitInterval('--gate-threshold'),
    )
    .option(
      '--slice-radius <n>',
      "average the gate's score over this many neighbouring slices on each side (default: the saved one, or 0)",
      integer('--slice-radius', { max: 5 }),
    )
    .option('--threads <n>', 'libtorch threads (default: all cores)', integer('--threads', { min: 1 }))
    .option('--batch <n>', 'slices per inference batch', integer('--batch', { min: 1 }), defaults.batch)
    .addOption(
      new Option(
        '--backend <engine>',
        'what runs the networks: libtorch (torch), onnxruntime on their ONNX export (onnx, exported once and ' +
          'cached), the faster of the two per model, measured once per machine, model, threads and batch (auto), ' +
          'or libtorch in bfloat16 (torch-bf16: several times faster on CPUs with bfloat16 instructions; ' +
          'probabilities move by a few hundredths; the shipped decision holds on them, docs/INFERENCE.md)',
      )
        .choices([...BACKEND_SETTINGS])
        .default(DEFAULT_BACKEND),
    );
}

/** The gate asked for on the command line; undefined for the saved one. */
export function gateChoice(o: InferenceValues): GateChoice | undefined {
  if (o.gate === 'none' && (o.gateThreshold !== undefined || o.sliceRadius !== undefined))
    throw new InvalidArgumentError(
      '--gate none segments every slice: it takes no --gate-threshold or --slice-radius',
    );
  const choice: GateChoice = {
    ...(o.gate !== undefined ? { gate: o.gate } : {}),
    ...(o.gateThreshold !== undefined ? { threshold: o.gateThreshold } : {}),
    ...(o.sliceRadius !== undefined ? { sliceRadius: o.sliceRadius } : {}),
  };
  return Object.keys(choice).length > 0 ? choice : undefined;
}

/** The number `value` writes, or undefined for text, an empty string, NaN or ±Infinity. */
function finite(value: string): number | undefined {
  const x = Number(value);
  return value.trim() !== '' && Number.isFinite(x) ? x : undefined;
}

/** --precision: the arithmetic of training's forward pass (train classifier|segmenter, cv train). */
export function precisionOption(): Option {
  return new Option(
    '--precision <name>',
    'arithmetic of the forward pass while training: fp32, or bf16 mixed precision (about twice as fast on CPUs with bfloat16 instructions; a recipe change)',
  )
    .choices([...TRAINING_PRECISIONS])
    .default(DEFAULT_TRAINING_PRECISION);
}

/** The segmenter's loss: `--loss` of train segmenter, `--segmenter-loss` of cv train. */
export function segmentationLossOption(flag: '--loss' | '--segmenter-loss'): Option {
  return new Option(`${flag} <name>`, "the segmenter's loss")
    .choices([...SEGMENTATION_LOSSES])
    .default(SEGMENTER_DEFAULTS.loss);
}

/** The segmenter's architecture (train segmenter --arch, cv train --segmenter-arch). */
export function segmenterArchOption(flag: '--arch' | '--segmenter-arch'): Option {
  return new Option(`${flag} <name>`, "the segmenter's architecture (unet: Buda et al.'s U-Net)")
    .choices([...SEGMENTER_ARCHITECTURES])
    .default(SEGMENTER_DEFAULTS.architecture);
}

/** 2.5-D input of the segmenter (train segmenter --neighbours, cv train --segmenter-neighbours). */
export function neighboursOption(flag: '--neighbours' | '--segmenter-neighbours'): Option {
  return new Option(
    `${flag} <n>`,
    '2.5-D input: the segmenter also sees n neighbouring slices on each side of a slice, as channels',
  )
    .argParser(integer(flag, { min: 0, max: 4 }))
    .default(0);
}

/** --layout: the memory layout training runs in (train classifier|segmenter, cv train). */
export function layoutOption(): Option {
  return new Option(
    '--layout <name>',
    'memory layout of weights and activations while training (channels-last: the faster CPU kernels)',
  )
    .choices([...TRAINING_LAYOUTS])
    .default(DEFAULT_TRAINING_LAYOUT);
}
