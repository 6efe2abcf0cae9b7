// Training-time augmentation applied identically to images and masks: flips, rotation, scale and an optional
// elastic warp become one sampling grid per slice (libtorch's affine_grid + grid_sample, so the whole batch is
// warped in a few native calls); brightness and contrast touch the image only. Every random draw comes from
// the seeded Rng, so a seed gives the same batch. Missing sequences are simulated the way the dataset stores them:
// a patient without pre- or post-contrast has FLAIR in that channel (four of the 80 development patients have
// FLAIR in all three, and a model that never saw one outlines almost nothing in them).
import { z } from 'zod';
import { F, type Tensor, tensor } from '../engine/index.ts';
import type { Rng } from './random.ts';

export const augmentConfigSchema = z.object({
  /** Probability of a left–right flip (brains are roughly symmetric). */
  flipHorizontal: z.number().min(0).max(1),
  /** Probability of an up–down flip. */
  flipVertical: z.number().min(0).max(1),
  /** Rotation drawn uniformly from ±this many degrees. */
  rotateDegrees: z.number().min(0).max(180),
  /** Scale drawn uniformly from 1 ± this (0.1 = ±10%). */
  scale: z.number().min(0).max(0.5),
  /** Brightness shift drawn from ±this, in the units of the preprocessed image. */
  brightness: z.number().min(0),
  /** Contrast factor drawn from 1 ± this. */
  contrast: z.number().min(0).max(1),
  /** Optional elastic warp: random displacements on a coarse grid, smoothly interpolated. */
  elastic: z
    .object({
      probability: z.number().min(0).max(1),
      /** Standard deviation of the displacement, in pixels. */
      sigmaPixels: z.number().min(0),
      /** Control points per side of the coarse grid. */
      controlPoints: z.number().int().min(2),
    })
    .optional(),
  /** Probability that a slice's pre-contrast, post-contrast or both channels are replaced by its FLAIR. */
  missingSequences: z.number().min(0).max(1).optional(),
});

export type AugmentConfig = z.infer<typeof augmentConfigSchema>;

/** The defaults: flips, ±15°, ±10% scale, ±0.1 brightness and contrast, no elastic. */
export const DEFAULT_AUGMENT: AugmentConfig = {
  flipHorizontal: 0.5,
  flipVertical: 0,
  rotateDegrees: 15,
  scale: 0.1,
  brightness: 0.1,
  contrast: 0.1,
};

/** The draws for one slice. */
export interface AugmentParams {
  flipX: boolean;
  flipY: boolean;
  degrees: number;
  /** > 1 zooms in. */
  scale: number;
  brightness: number;
  contrast: number;
  /** Control-grid displacements in pixels, [2][controlPoints][controlPoints] flattened (x plane, then y). */
  elastic?: Float32Array;
  /** Channels replaced by FLAIR (channel 1), as the dataset does for sequences a patient lacks. */
  missing?: MissingSequences;
}

export const MISSING_SEQUENCES = ['pre', 'post', 'both'] as const;
export type MissingSequences = (typeof MISSING_SEQUENCES)[number];

export const IDENTITY_PARAMS: AugmentParams = {
  flipX: false,
  flipY: false,
  degrees: 0,
  scale: 1,
  brightness: 0,
  contrast: 1,
};

/** Draws one slice's parameters; the same Rng state gives the same draws. */
export function drawAugmentParams(config: AugmentConfig, rng: Rng): AugmentParams {
  const params: AugmentParams = {
    flipX: rng.chance(config.flipHorizontal),
    flipY: rng.chance(config.flipVertical),
    degrees: rng.uniform(-config.rotateDegrees, config.rotateDegrees),
    scale: rng.uniform(1 - config.scale, 1 + config.scale),
    brightness: rng.uniform(-config.brightness, config.brightness),
    contrast: rng.uniform(1 - config.contrast, 1 + config.contrast),
  };
  const e = config.elastic;
  if (e && rng.chance(e.probability)) {
    const field = new Float32Array(2 * e.controlPoints * e.controlPoints);
    for (let i = 0; i < field.length; i++) field[i] = rng.normal() * e.sigmaPixels;
    params.elastic = field;
  }
  // Drawn last and only when asked for, so runs without it keep their random streams.
  if (config.missingSequences && rng.chance(config.missingSequences))
    params.missing = MISSING_SEQUENCES[rng.int(MISSING_SEQUENCES.length)];
  return params;
}

/**
 * Copies FLAIR into the channels each slice's params mark missing, in place, on raw interleaved RGB bytes
 * [N,H,W,3] before any intensity step, so every preprocessing sees what a patient stored that way would give.
 */
export function substituteMissingSequences(images: Uint8Array, params: readonly AugmentParams[]): void {
  const px = images.length / 3 / params.length;
  params.forEach((p, k) => {
    if (!p.missing) return;
    const pre = p.missing !== 'post';
    const post = p.missing !== 'pre';
    for (let i = k * px * 3, end = (k + 1) * px * 3; i < end; i += 3) {
      if (pre) images[i] = images[i + 1]!;
      if (post) images[i + 2] = images[i + 1]!;
    }
  });
}

/**
 * The 2×3 matrix affine_grid needs: it maps output coordinates (normalised to [-1, 1]) to input coordinates.
 * Rotation is done in pixel units so that non-square slices rotate without shear.
 */
export function affineTheta(p: AugmentParams, width: number, height: number): number[] {
  const a = (p.degrees * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const fx = p.flipX ? -1 : 1;
  const fy = p.flipY ? -1 : 1;
  const k = 1 / p.scale;
  return [c * fx * k, -s * (height / width) * fy * k, 0, s * (width / height) * fx * k, c * fy * k, 0];
}

/**
 * Warps images [N,C,H,W] (bilinear) and masks [N,1,H,W] (nearest, so they stay binary) with the same grid per
 * slice; outside the slice is 0 (black background). Returns new tensors; call inside tidy().
 */
export function warpBatch(
  images: Tensor,
  masks: Tensor | undefined,
  params: readonly AugmentParams[],
): { images: Tensor; masks: Tensor | undefined } {
  const [n, c, h, w] = images.shape as [number, number, number, number];
  if (params.length !== n) throw new RangeError(`${params.length} parameter sets for a batch of ${n}`);
  const theta = tensor(Float32Array.from(params.flatMap((p) => affineTheta(p, w, h))), [n, 2, 3]);
  let grid = F.affineGrid(theta, [n, c, h, w], false);
  const warps = params.map((p) => p.elastic);
  const first = warps.find((x) => x !== undefined);
  if (first) {
    const points = Math.round(Math.sqrt(first.length / 2));
    const field = new Float32Array(n * first.length);
    warps.forEach((warp, i) => {
      if (warp) field.set(warp, i * first.length);
    });
    // Pixels to normalised units (2 / size), then smooth to full size.
    const scale = tensor(Float32Array.from([2 / w, 2 / h]), [1, 2, 1, 1]);
    const coarse = tensor(field, [n, 2, points, points]).mul(scale);
    const dense = F.interpolate(coarse, { size: [h, w], mode: 'bilinear', alignCorners: true });
    grid = grid.add(dense.permute(0, 2, 3, 1));
  }
  return {
    images: F.gridSample(images, grid, { mode: 'bilinear', padding: 'zeros', alignCorners: false }),
    masks: masks && F.gridSample(masks, grid, { mode: 'nearest', padding: 'zeros', alignCorners: false }),
  };
}

/** Brightness and contrast per slice (contrast about each slice's mean, so it stretches rather than darkens). */
export function adjustIntensity(images: Tensor, params: readonly AugmentParams[]): Tensor {
  if (!params.some((p) => p.contrast !== 1 || p.brightness !== 0)) return images;
  const n = params.length;
  const contrast = tensor(Float32Array.from(params.map((p) => p.contrast)), [n, 1, 1, 1]);
  const brightness = tensor(Float32Array.from(params.map((p) => p.brightness)), [n, 1, 1, 1]);
  const mean = images.mean([1, 2, 3], true);
  return images.sub(mean).mul(contrast).add(mean).add(brightness);
}

/** warpBatch then adjustIntensity: the whole augmentation of preprocessed tensors. */
export function augmentBatch(
  images: Tensor,
  masks: Tensor | undefined,
  params: readonly AugmentParams[],
): { images: Tensor; masks: Tensor | undefined } {
  const warped = warpBatch(images, masks, params);
  return { images: adjustIntensity(warped.images, params), masks: warped.masks };
}
