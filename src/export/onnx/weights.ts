// Reading a parameter's values out of the engine for an ONNX initializer.
import type { Tensor } from '../../engine/index.ts';

/** A float32 parameter's elements (a copy, contiguous, row-major). */
export function float32Data(t: Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`ONNX export: expected float32 weights, got ${t.dtype}`);
  if (t.device !== 'cpu') throw new Error('ONNX export: move the model to the CPU first');
  return t.data() as Float32Array;
}
