// Probability map → binary mask, with the project's threshold rule (docs/METRICS.md): tumour iff p >= t, the
// same comparison as the segmenter's validation (Tensor.ge). A NaN probability is never tumour.

export function threshold(probs: Float32Array, t: number): Uint8Array {
  if (!Number.isFinite(t)) throw new RangeError(`threshold must be a finite number, got ${t}`);
  const out = new Uint8Array(probs.length);
  for (let i = 0; i < probs.length; i++) if (probs[i]! >= t) out[i] = 1;
  return out;
}
