// Test-time augmentation by flips: the segmenter sees each batch as is, flipped left–right, flipped up–down and
// both; each output is flipped back onto the original pixel grid before the probabilities are averaged. Plain
// arrays in and out, so that every inference path (libtorch in Node, onnxruntime in the page) averages the same
// way; the network itself is whatever `run` calls.
import type { TtaMode } from './config.ts';

/** Planar input [n, C, H, W] (or output [n, H, W]) in, probability maps [n, H, W] out. */
export type ProbabilityNetwork = (input: Float32Array, n: number) => Promise<Float32Array>;

/** Identity, horizontal (W), vertical (H), both, as [horizontal, vertical]. Each is its own inverse. */
const FLIPS = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/** Planes of H×W (any number of them, one after another) mirrored left–right and/or up–down; its own inverse. */
export function flipPlanes(
  data: Float32Array,
  height: number,
  width: number,
  horizontal: boolean,
  vertical: boolean,
): Float32Array {
  if (!horizontal && !vertical) return data;
  const out = new Float32Array(data.length);
  const plane = height * width;
  for (let p = 0; p < data.length; p += plane) {
    for (let y = 0; y < height; y++) {
      const sy = vertical ? height - 1 - y : y;
      for (let x = 0; x < width; x++) {
        const sx = horizontal ? width - 1 - x : x;
        out[p + y * width + x] = data[p + sy * width + sx]!;
      }
    }
  }
  return out;
}

/**
 * The TTA passes over `n` planar input slices (H×W each), as a generator: it yields each (flipped) input for the
 * network, takes the network's output back, and returns the mean of the outputs, each flipped back, summed in
 * float32 in the flips' order, then divided. One definition for the asynchronous core and libtorch's
 * synchronous callers alike (the drivers below).
 */
function* meanOverFlips(
  input: Float32Array,
  n: number,
  height: number,
  width: number,
  tta: TtaMode,
): Generator<Float32Array, Float32Array, Float32Array> {
  const flips = tta === 'flips' ? FLIPS : FLIPS.slice(0, 1);
  let sum: Float32Array | undefined;
  for (const [horizontal, vertical] of flips) {
    const output = yield flipPlanes(input, height, width, horizontal, vertical);
    if (output.length !== n * height * width) {
      throw new RangeError(
        `the segmenter returned ${output.length} values for ${n} slices of ${width}×${height}: flips cannot be undone`,
      );
    }
    const probs = flipPlanes(output, height, width, horizontal, vertical);
    if (!sum) sum = probs === output ? Float32Array.from(probs) : probs;
    else for (let i = 0; i < sum.length; i++) sum[i]! += probs[i]!;
  }
  if (flips.length > 1) for (let i = 0; i < sum!.length; i++) sum![i]! /= flips.length;
  return sum!;
}

/**
 * The probability maps [n, H, W] of `n` planar input slices (H×W each): one pass with 'none', the mean over the
 * four flips (each output flipped back first) with 'flips'.
 */
export async function probabilitiesWithTta(
  run: ProbabilityNetwork,
  input: Float32Array,
  n: number,
  height: number,
  width: number,
  tta: TtaMode,
): Promise<Float32Array> {
  const passes = meanOverFlips(input, n, height, width, tta);
  let step = passes.next();
  while (!step.done) step = passes.next(await run(step.value, n));
  return step.value;
}

/** probabilitiesWithTta for a network that answers at once (libtorch's, in training). */
export function probabilitiesWithTtaSync(
  run: (input: Float32Array, n: number) => Float32Array,
  input: Float32Array,
  n: number,
  height: number,
  width: number,
  tta: TtaMode,
): Float32Array {
  const passes = meanOverFlips(input, n, height, width, tta);
  let step = passes.next();
  while (!step.done) step = passes.next(run(step.value, n));
  return step.value;
}
