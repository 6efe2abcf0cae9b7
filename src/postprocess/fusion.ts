// Which slices of a patient hold tumour, from both stages: the classifier's P(tumour), the segmenter's largest
// pixel probability, or their mean, optionally averaged over neighbouring slices of the same patient (a tumour
// spans several slices, a false alarm rarely does). Slices not called positive get an empty mask before the
// volume's post-processing. The reference design's gate is { detector: 'classifier', sliceRadius: 0 }; a
// threshold of 0 calls every slice, leaving the decision to the segmenter's post-processed mask. Pure functions.
import { z } from 'zod';

export const detectors = ['classifier', 'segmenter', 'mean'] as const;
export type Detector = (typeof detectors)[number];

export const fusionConfigSchema = z.strictObject({
  /** What scores a slice: P(tumour) of the classifier, the segmenter's largest pixel probability, their mean. */
  detector: z.enum(detectors),
  /** The score is averaged over this many slices on each side within the patient (0: the slice alone). */
  sliceRadius: z.number().int().min(0).max(5),
  /** A slice is called positive iff its score >= threshold. */
  threshold: z.number().min(0).max(1),
});
export type FusionConfig = z.output<typeof fusionConfigSchema>;

/** The reference design's gate: the classifier alone decides, at its own decision threshold. */
export function referenceGate(classifierThreshold: number): FusionConfig {
  return { detector: 'classifier', sliceRadius: 0, threshold: classifierThreshold };
}

/** The gates a user can pick (`--gate`): a detector, or 'none' (every slice segmented, the mask decides). */
export const gateNames = [...detectors, 'none'] as const;
export type GateName = (typeof gateNames)[number];

/** A gate asked for on the command line; what it leaves out comes from the saved rule or the defaults. */
export interface GateChoice {
  gate?: GateName;
  threshold?: number;
  sliceRadius?: number;
}

/** A slice threshold for the segmenter and mean detectors when neither the saved rule nor the user gives one. */
export const DEFAULT_GATE_THRESHOLD = 0.5;

/**
 * The fusion rule a run uses: the one saved with the models (the reference gate when none was saved), or the
 * gate the user picked. A picked detector keeps the saved threshold and radius when the saved rule uses the same
 * detector; otherwise the classifier gets its own decision threshold, the others DEFAULT_GATE_THRESHOLD, and the
 * radius is 0. Explicit values win; 'none' takes none.
 */
export function resolveGate(
  saved: FusionConfig | undefined,
  classifierThreshold: number,
  choice: GateChoice = {},
): FusionConfig {
  if (choice.gate === 'none') {
    if (choice.threshold !== undefined || choice.sliceRadius !== undefined)
      throw new Error("the gate 'none' calls every slice: it takes no threshold or slice radius");
    return { detector: 'segmenter', sliceRadius: 0, threshold: 0 };
  }
  const base = saved ?? referenceGate(classifierThreshold);
  const detector = choice.gate ?? base.detector;
  const kept =
    detector === base.detector && base.threshold > 0
      ? base
      : {
          detector,
          sliceRadius: 0,
          threshold: detector === 'classifier' ? classifierThreshold : DEFAULT_GATE_THRESHOLD,
        };
  return fusionConfigSchema.parse({
    ...kept,
    ...(choice.threshold !== undefined ? { threshold: choice.threshold } : {}),
    ...(choice.sliceRadius !== undefined ? { sliceRadius: choice.sliceRadius } : {}),
  });
}

/** The rule in words, for logs and reports. */
export function describeGate(f: FusionConfig): string {
  if (f.threshold === 0) return 'no gate (every slice segmented; the post-processed mask decides)';
  const what = {
    classifier: 'classifier P(tumour)',
    segmenter: "segmenter's largest pixel probability",
    mean: 'mean of both',
  }[f.detector];
  const smoothing = f.sliceRadius > 0 ? `, averaged over ±${f.sliceRadius} slices` : '';
  return `${what}${smoothing} >= ${f.threshold}`;
}

/** The inputs a detector reads, per slice of one patient in slice order. */
export interface SliceEvidence {
  classifier?: ArrayLike<number>;
  segmenterMax?: ArrayLike<number>;
}

/** Whether a detector needs the segmenter's output on every slice (not only on the slices it lets through). */
export const needsSegmenterOnEverySlice = (f: FusionConfig) =>
  f.detector !== 'classifier' || f.threshold === 0;

/** Each slice's detector score, before smoothing. */
export function rawSliceScores(detector: Detector, e: SliceEvidence): Float32Array {
  const need = (name: keyof SliceEvidence) => {
    const v = e[name];
    if (!v) throw new Error(`fusion: the '${detector}' detector needs the ${name} scores`);
    return v;
  };
  if (detector === 'classifier') return Float32Array.from(need('classifier'));
  if (detector === 'segmenter') return Float32Array.from(need('segmenterMax'));
  const c = need('classifier');
  const s = need('segmenterMax');
  if (c.length !== s.length)
    throw new RangeError(`fusion: ${c.length} classifier, ${s.length} segmenter scores`);
  return Float32Array.from(c, (x, k) => (x + s[k]!) / 2);
}

/** The mean over slices k−r..k+r that exist (fewer at the volume's ends). */
export function smoothAlongSlices(scores: ArrayLike<number>, radius: number): Float32Array {
  const n = scores.length;
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    let sum = 0;
    let count = 0;
    for (let j = Math.max(0, k - radius); j <= Math.min(n - 1, k + radius); j++) {
      sum += scores[j]!;
      count++;
    }
    out[k] = sum / count;
  }
  return out;
}

/** The fused score of every slice of one patient (slices in order). */
export function sliceScores(config: FusionConfig, e: SliceEvidence): Float32Array {
  const raw = rawSliceScores(config.detector, e);
  return config.sliceRadius > 0 ? smoothAlongSlices(raw, config.sliceRadius) : raw;
}

/** Which slices of one patient are called positive. */
export function callSlices(config: FusionConfig, e: SliceEvidence): boolean[] {
  return Array.from(sliceScores(config, e), (s) => s >= config.threshold);
}

/** The largest value of each H×W slice of a D×H×W volume (probabilities, or bytes scaled by `scale`). */
export function sliceMaxima(volume: ArrayLike<number>, d: number, pixels: number, scale = 1): Float32Array {
  if (volume.length !== d * pixels)
    throw new RangeError(`${volume.length} values are not ${d} slices of ${pixels}`);
  const out = new Float32Array(d);
  for (let k = 0; k < d; k++) {
    let m = 0;
    for (let i = k * pixels; i < (k + 1) * pixels; i++) if (volume[i]! > m) m = volume[i]!;
    out[k] = m * scale;
  }
  return out;
}
