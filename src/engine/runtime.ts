// Process-wide settings of the libtorch runtime: threads, seeding, devices.
import { availableParallelism } from 'node:os';
import { native } from './native.ts';

/**
 * Intra-op threads for libtorch's CPU kernels. Debian's libtorch uses OpenMP as its parallel backend, and
 * libopenblas0-openmp runs its GEMMs on the same OpenMP runtime, so this one number bounds both (OpenBLAS and
 * oneDNN inherit it); OMP_NUM_THREADS only sets the starting value. Defaults to the machine's logical cores.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`threads must be a positive integer, got ${n}`);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

export function defaultThreads(): number {
  const fromEnv = Number(process.env['TUMORSCOPE_THREADS']);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism();
}

/** Seeds libtorch's generator (weight init, dropout, rand*). */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

export const cuda = {
  isAvailable: (): boolean => native.cudaAvailable(),
  deviceCount: (): number => native.cudaDeviceCount(),
};

/** 'cuda' when this libtorch build has a usable GPU, else 'cpu'. */
export function defaultDevice(): string {
  return native.cudaAvailable() ? 'cuda' : 'cpu';
}

export function buildInfo(): { version: string; config: string; parallel: string; allocatorTuned: boolean } {
  return { ...native.buildInfo(), allocatorTuned: native.allocatorTuned };
}

let initialised = false;
/** Applies the default thread count once per process. */
export function initRuntime(): void {
  if (initialised) return;
  initialised = true;
  native.setNumThreads(defaultThreads());
}
