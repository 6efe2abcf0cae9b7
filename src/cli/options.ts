// Checked parsers for option values, shared by every command: commander calls them while it reads the command
// line, so a bad value stops the command before any work, with a message naming the option (commander adds the
// value). Without them Number('abc') is NaN and Number('') is 0, and both travel on into hours of training.
import { InvalidArgumentError, Option } from 'commander';
import type { SamplingConfig } from '../data/sampler.ts';
import { DEFAULT_TRAINING_LAYOUT, TRAINING_LAYOUTS } from '../models/training.ts';

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

/** The number `value` writes, or undefined for text, an empty string, NaN or ±Infinity. */
function finite(value: string): number | undefined {
  const x = Number(value);
  return value.trim() !== '' && Number.isFinite(x) ? x : undefined;
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
