// What bench/inference measures: the shipped models at batch 1 (one slice, as the viewer asks) and batch 8 (as
// evaluation runs), with the same deterministic input for both runtimes.

export const MODELS = ['classifier', 'segmenter'] as const;
export type ModelName = (typeof MODELS)[number];
export const BATCHES = [1, 8] as const;

/** A fixed input in [0, 1) (rescaled slices' range); its values do not matter for timing. */
export function benchInput(batch: number, size: number): Float32Array {
  const x = new Float32Array(batch * 3 * size * size);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = s / 2147483648;
  }
  return x;
}

export interface WorkerResult {
  side: 'ours' | 'onnxruntime';
  model: ModelName;
  /** Milliseconds per run, by batch size. */
  times: Record<string, number[]>;
  /** Process CPU milliseconds (user + system, all threads) per run, by batch size: robust to a busy machine. */
  cpu: Record<string, number[]>;
}
