// Which engine runs each network: libtorch (ours) or onnxruntime on the network's ONNX export. `auto` decides by
// measurement on this machine: each model, at the batch size it will be called with and the threads it will
// have, is run a few times on both engines and the faster median wins. The measurement is kept in a small JSON
// file keyed by machine, model, threads and batch, so that it is paid once. Nothing here knows which engine is
// which beyond a name: the runs and the clock are given, so the choice can be tested with made-up timings.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeJsonAtomic } from '../engine/index.ts';

export const BACKENDS = ['torch', 'onnx'] as const;
export type Backend = (typeof BACKENDS)[number];
/**
 * libtorch with the networks converted to bfloat16 (toBfloat16 in src/models/optimize-for-inference.ts): its
 * outputs differ from float32's by more than the export tolerance, so it is a choice a user makes, never `auto`'s.
 */
export const BFLOAT16_BACKEND = 'torch-bf16';
/** What a command is told: an engine, `auto` (the faster of torch and onnx by measurement), or torch in bfloat16. */
export type BackendSetting = Backend | 'auto' | typeof BFLOAT16_BACKEND;
export const BACKEND_SETTINGS: readonly BackendSetting[] = ['auto', ...BACKENDS, BFLOAT16_BACKEND];

/** One network on both engines: preprocessed input [n, 3, H, W] in, its outputs out. */
export type NetworkRun = (input: Float32Array, n: number) => Promise<Float32Array>;

/** What a calibration found for one model at one batch size. */
export interface Measurement {
  backend: Backend;
  /** Median wall-clock milliseconds of one call, per engine. */
  ms: Record<Backend, number>;
  /** Largest absolute difference between the two engines' outputs on the calibration input. */
  maxDifference: number;
}

/** Above this, the export is not trusted to stand in for the model (it matches within 1e-4 when it is right). */
export const EXPORT_TOLERANCE = 1e-4;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The engine to use given each engine's call times (ms): the smaller median, libtorch on a tie. onnxruntime only
 * when its output matched libtorch's within EXPORT_TOLERANCE: a faster wrong answer is not a choice.
 */
export function chooseBackend(times: Record<Backend, readonly number[]>, maxDifference: number): Measurement {
  for (const backend of BACKENDS) {
    if (times[backend].length === 0) throw new RangeError(`no timings for ${backend}`);
  }
  const ms = { torch: median(times.torch), onnx: median(times.onnx) };
  const trusted = maxDifference <= EXPORT_TOLERANCE;
  return { backend: trusted && ms.onnx < ms.torch ? 'onnx' : 'torch', ms, maxDifference };
}

export interface CalibrationOptions {
  /** Untimed calls per engine first (one-off set-up, caches). */
  warmup: number;
  /** Timed calls per engine, taking turns so that a change of load hits both. */
  iterations: number;
  /** The clock, in ms (performance.now by default; tests give their own). */
  now?: () => number;
}

export const DEFAULT_CALIBRATION: CalibrationOptions = { warmup: 1, iterations: 3 };

/** A fixed, non-constant input [n, 3, height, width] in the networks' usual range, the same on every run. */
export function calibrationInput(n: number, height: number, width: number): Float32Array {
  const x = new Float32Array(n * 3 * height * width);
  let state = 12345;
  for (let i = 0; i < x.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    x[i] = (state / 2 ** 32) * 2 - 1;
  }
  return x;
}

/** Times both engines on the same input and chooses (chooseBackend). */
export async function calibrate(
  runs: Record<Backend, NetworkRun>,
  input: Float32Array,
  n: number,
  o: CalibrationOptions = DEFAULT_CALIBRATION,
): Promise<Measurement> {
  const now = o.now ?? (() => performance.now());
  const outputs = {} as Record<Backend, Float32Array>;
  for (const backend of BACKENDS) {
    for (let i = 0; i < o.warmup; i++) outputs[backend] = await runs[backend](input, n);
  }
  const times: Record<Backend, number[]> = { torch: [], onnx: [] };
  for (let i = 0; i < o.iterations; i++) {
    const order = i % 2 === 0 ? BACKENDS : [...BACKENDS].reverse();
    for (const backend of order) {
      const started = now();
      outputs[backend] = await runs[backend](input, n);
      times[backend].push(now() - started);
    }
  }
  return chooseBackend(times, maxAbsDifference(outputs.torch, outputs.onnx));
}

function maxAbsDifference(a: Float32Array | undefined, b: Float32Array | undefined): number {
  if (!a || !b || a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(worst) ? Number.POSITIVE_INFINITY : worst;
}

/** Where a measurement applies: the same machine, model file contents, threads and batch size. */
export interface MeasurementKey {
  machine: string;
  /** A hash of the model's files (and of the exporter, whose graph the onnxruntime side runs). */
  model: string;
  threads: number;
  batch: number;
}

const keyText = (k: MeasurementKey) => `${k.machine}|${k.model}|threads=${k.threads}|batch=${k.batch}`;

interface StoredMeasurements {
  measurements: Record<string, Measurement & { measuredAt: string }>;
}

/**
 * Measurements kept in one JSON file. A file that cannot be read or parsed counts as empty (it is a cache: the
 * worst a bad one costs is a new calibration), and one that cannot be written is left as it was.
 */
export class MeasurementStore {
  constructor(readonly file: string) {}

  #read(): StoredMeasurements {
    if (!existsSync(this.file)) return { measurements: {} };
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as StoredMeasurements;
      return typeof parsed.measurements === 'object' && parsed.measurements !== null
        ? parsed
        : { measurements: {} };
    } catch {
      return { measurements: {} };
    }
  }

  get(key: MeasurementKey): Measurement | undefined {
    const found = this.#read().measurements[keyText(key)];
    return found && BACKENDS.includes(found.backend) ? found : undefined;
  }

  /** Adds one measurement; returns false when the file could not be written. */
  set(key: MeasurementKey, m: Measurement): boolean {
    const stored = this.#read();
    stored.measurements[keyText(key)] = { ...m, measuredAt: new Date().toISOString() };
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeJsonAtomic(this.file, stored);
      return true;
    } catch {
      return false;
    }
  }
}
