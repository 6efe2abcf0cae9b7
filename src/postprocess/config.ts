// The post-processing a segmenter's output gets, saved in the model's config (best.json, key `postprocess`)
// with the values chosen on validation, so that evaluation and prediction repeat it exactly.
import { z } from 'zod';

export const ttaModes = ['none', 'flips'] as const;
export type TtaMode = (typeof ttaModes)[number];

export const postprocessConfigSchema = z.strictObject({
  /** A pixel is tumour iff its probability >= threshold. */
  threshold: z.number().min(0).max(1),
  /** 2-D components (8-connected, per slice) of fewer pixels are removed; 0 = off. */
  minComponentArea: z.number().int().min(0).default(0),
  /** Keep only the largest 3-D component (6-connected) of each patient volume, as Buda et al. */
  largest3DComponent: z.boolean().default(false),
  /** Test-time augmentation: average the probabilities over horizontal and vertical flips. */
  tta: z.enum(ttaModes).default('none'),
});

export type PostprocessConfig = z.output<typeof postprocessConfigSchema>;

/** Only the 0.5 threshold: the model's raw output. */
export const NO_POSTPROCESS: Readonly<PostprocessConfig> = Object.freeze({
  threshold: 0.5,
  minComponentArea: 0,
  largest3DComponent: false,
  tta: 'none',
});

/**
 * Validates a config read from JSON. The switches default to off, so a config saved before they existed
 * (`{ "threshold": 0.5 }`) still reads; unknown keys are errors, so a misspelt switch is not silently off.
 */
export function parsePostprocessConfig(value: unknown): PostprocessConfig {
  const parsed = postprocessConfigSchema.safeParse(value);
  if (!parsed.success) throw new Error(`invalid post-processing config: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** How many optional steps a config switches on (the threshold is always applied): the tie-break's simplicity. */
export function stepsOn(config: PostprocessConfig): number {
  return (
    (config.minComponentArea > 0 ? 1 : 0) +
    (config.largest3DComponent ? 1 : 0) +
    (config.tta !== 'none' ? 1 : 0)
  );
}
