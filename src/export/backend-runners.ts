// The two-stage core's runners on the engine asked for (`--backend auto|torch|onnx|torch-bf16`), per stage:
// libtorch on the loaded model (in bfloat16 for torch-bf16), or onnxruntime-node on the model's ONNX export. The
// export is made from the loaded weights themselves and kept in a cache folder under a hash of the model's files
// and of the exporter, so that it can never disagree with the weights it stands for (an .onnx placed next to the
// weights could go stale when they are retrained) and models/ needs no second copy of every network. `auto`
// chooses per stage by measurement (backend-choice.ts), also cached. The runners keep the loaded models'
// preprocessing, thresholds, post-processing and fusion rule, whichever engine runs the network.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { getNumThreads, writeFileAtomic } from '../engine/index.ts';
import type { TwoStageModels } from '../inference/two-stage.ts';
import { toBfloat16 } from '../models/optimize-for-inference.ts';
import { type LoadedModel, type LoadedModels, runnersOf } from '../pipeline/load-model.ts';
import {
  type Backend,
  type BackendSetting,
  BFLOAT16_BACKEND,
  type CalibrationOptions,
  calibrate,
  calibrationInput,
  DEFAULT_CALIBRATION,
  EXPORT_TOLERANCE,
  type Measurement,
  MeasurementStore,
} from './backend-choice.ts';
import { exportModelToOnnx } from './onnx/export-model.ts';
import { type Ort, onnxClassifier, onnxSegmenter } from './onnx/onnx-runners.ts';
import { TUMORSCOPE_VERSION } from './version.ts';

export interface BackendOptions {
  backend: BackendSetting;
  /** The batch size the runners will be called with (what `auto` measures at). */
  batch: number;
  /** Threads of each engine (default: libtorch's, every core). */
  threads?: number;
  /** Where exports and measurements are kept (default: defaultCacheDir()). */
  cacheDir?: string;
  calibration?: CalibrationOptions;
}

type Stage = 'classifier' | 'segmenter';
const STAGES: readonly Stage[] = ['classifier', 'segmenter'];

/** Which engine runs each stage, and, where `auto` measured, what it found. */
export type BackendChoice = Record<
  Stage,
  { backend: Backend | typeof BFLOAT16_BACKEND; measurement?: Measurement; cached?: boolean }
>;

export interface InferenceBackends {
  runners: TwoStageModels;
  chosen: BackendChoice;
  /** A line per stage: its engine, and what `auto` measured. */
  description: string[];
  /** Frees the onnxruntime sessions. */
  release(): Promise<void>;
}

/** $TUMORSCOPE_CACHE, else $XDG_CACHE_HOME/tumorscope, else ~/.cache/tumorscope. */
export function defaultCacheDir(): string {
  const env = process.env;
  if (env['TUMORSCOPE_CACHE']) return env['TUMORSCOPE_CACHE'];
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'tumorscope');
}

const EXPORTER_DIR = new URL('./onnx/', import.meta.url);

/** A hash of the exporter's own source: a changed exporter makes a new export rather than reuse a stale one. */
let exporterHash: string | undefined;
function exporterFingerprint(): string {
  if (exporterHash) return exporterHash;
  const hash = createHash('sha256').update(TUMORSCOPE_VERSION);
  for (const name of readdirSync(EXPORTER_DIR).sort())
    hash.update(name).update(readFileSync(new URL(name, EXPORTER_DIR)));
  exporterHash = hash.digest('hex');
  return exporterHash;
}

/** The model's identity: its config and weights as saved, and the exporter that turns them into a graph. */
export function modelHash(model: LoadedModel): string {
  return createHash('sha256')
    .update(readFileSync(model.files.config))
    .update(readFileSync(model.files.weights))
    .update(exporterFingerprint())
    .digest('hex')
    .slice(0, 32);
}

/** This machine as far as speed goes: its processor, cores and architecture, and the onnxruntime version. */
function machineOf(ort: Ort): string {
  const versions = (ort as { env?: { versions?: { node?: string } } }).env?.versions;
  const cores = cpus();
  return `${cores[0]?.model ?? 'unknown cpu'} ×${cores.length} ${process.arch} onnxruntime ${versions?.node ?? '?'}`;
}

/** The model's ONNX export, from the cache or made now and cached. */
export function cachedExport(model: LoadedModel, cacheDir: string, hash = modelHash(model)): Uint8Array {
  const file = join(cacheDir, 'onnx', `${model.kind}-${hash}.onnx`);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const bytes = exportModelToOnnx(model);
  try {
    mkdirSync(join(cacheDir, 'onnx'), { recursive: true });
    writeFileAtomic(file, bytes);
  } catch {
    // A read-only cache costs an export per run, nothing else.
  }
  return bytes;
}

async function loadOrt(): Promise<Ort> {
  return (await import('onnxruntime-node')) as unknown as Ort;
}

/**
 * The runners of `models` on the engine(s) asked for. `torch-bf16` converts the loaded networks to bfloat16 in
 * place (they then serve only these runners).
 */
export async function inferenceBackends(models: LoadedModels, o: BackendOptions): Promise<InferenceBackends> {
  if (o.backend === 'torch' || o.backend === BFLOAT16_BACKEND) {
    const backend = o.backend;
    if (backend === BFLOAT16_BACKEND) for (const stage of STAGES) toBfloat16(models[stage].model);
    const emulated =
      backend === BFLOAT16_BACKEND && !cpuHasBfloat16()
        ? ' (this CPU has no bfloat16 instructions: emulated, slower than torch)'
        : '';
    return {
      runners: runnersOf(models),
      chosen: { classifier: { backend }, segmenter: { backend } },
      description: STAGES.map((stage) => `${stage}: ${backend}${emulated}`),
      release: async () => {},
    };
  }
  const torch = runnersOf(models);
  const ort = await loadOrt();
  const threads = o.threads ?? getNumThreads();
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  const sessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const store = new MeasurementStore(join(cacheDir, 'backend-measurements.json'));
  const machine = machineOf(ort);
  const runners: TwoStageModels = { classifier: { ...torch.classifier }, segmenter: { ...torch.segmenter } };
  const chosen = {} as BackendChoice;
  const sessions: { release(): Promise<void> }[] = [];
  for (const stage of STAGES) {
    const loaded = models[stage];
    const hash = modelHash(loaded);
    const open = () =>
      stage === 'classifier'
        ? onnxClassifier(ort, cachedExport(loaded, cacheDir, hash), sessionOptions)
        : onnxSegmenter(ort, cachedExport(loaded, cacheDir, hash), sessionOptions);
    const use = (onnx: Awaited<ReturnType<typeof open>>) => {
      sessions.push(onnx);
      runners[stage].run = onnx.run;
    };
    if (o.backend === 'onnx') {
      use(await open());
      chosen[stage] = { backend: 'onnx' };
      continue;
    }
    const key = { machine, model: hash, threads, batch: o.batch };
    let measurement = store.get(key);
    const cached = measurement !== undefined;
    if (!measurement) {
      const onnx = await open();
      const { width, height } = loaded.preprocess;
      measurement = await calibrate(
        { torch: torch[stage].run, onnx: onnx.run },
        calibrationInput(o.batch, height, width),
        o.batch,
        o.calibration ?? DEFAULT_CALIBRATION,
      );
      store.set(key, measurement);
      if (measurement.backend === 'onnx') use(onnx);
      else await onnx.release();
    } else if (measurement.backend === 'onnx') use(await open());
    chosen[stage] = { backend: measurement.backend, measurement, cached };
  }
  return {
    runners,
    chosen,
    description: STAGES.map((stage) => describeChoice(stage, chosen[stage], o.batch, threads)),
    release: async () => {
      await Promise.all(sessions.map((s) => s.release()));
    },
  };
}

/** Whether the processor has bfloat16 instructions (Linux /proc/cpuinfo; elsewhere assumed not). */
export function cpuHasBfloat16(): boolean {
  try {
    return /\b(avx512_bf16|amx_bf16)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/** `segmenter: onnx (torch 412 ms, onnx 371 ms per batch of 4 at 2 threads; measured now)`. */
export function describeChoice(
  stage: Stage,
  choice: BackendChoice[Stage],
  batch: number,
  threads: number,
): string {
  const m = choice.measurement;
  if (!m) return `${stage}: ${choice.backend}`;
  const why =
    m.maxDifference > EXPORT_TOLERANCE
      ? `; the export differs by ${m.maxDifference.toExponential(1)}, so libtorch`
      : '';
  return (
    `${stage}: ${choice.backend} (torch ${m.ms.torch.toFixed(0)} ms, onnx ${m.ms.onnx.toFixed(0)} ms per batch of ` +
    `${batch} at ${threads} threads; ${choice.cached ? 'measured before' : 'measured now'}${why})`
  );
}
