// The shapes of a prediction as the HTTP API answers it (POST /api/predict) and the viewer reads it, from the
// server or from its own in-browser inference: one zod schema, the types inferred from it. The server checks its
// answers against it in the tests; the page imports the types only (`import type`), so zod stays out of it.
import { z } from 'zod';
import { fusionConfigSchema } from '../postprocess/fusion.ts';

export const boundingBoxSchema = z.strictObject({
  x: z.number().int().min(0),
  y: z.number().int().min(0),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});

const probability = z.number().min(0).max(1);

export const patientPredictionSchema = z.strictObject({
  patient: z.string(),
  slices: z.number().int().positive(),
  /** Slices whose final mask holds tumour (`tumour`). */
  positiveSlices: z.number().int().min(0),
  /** Slices the classifier itself called tumour (`classifierCall`), whatever the final masks hold. */
  classifierCalledSlices: z.number().int().min(0),
  /** Slice numbers of the first and last positive slice. */
  firstPositiveSlice: z.number().nullable(),
  lastPositiveSlice: z.number().nullable(),
  /** Tumour pixels over the patient's slices, at the input size (the sum of areaPixels). */
  volumeVoxels: z.number().int().min(0),
  /**
   * The steps that read the patient's whole volume (the largest 3-D component, a gate smoothed along slices), in
   * words: a slice's result depends on the slices sent with it. Empty when none ran.
   */
  volumeSteps: z.array(z.string()),
});

export const sliceResultSchema = z.strictObject({
  /** The file name (without folders). */
  name: z.string(),
  patient: z.string(),
  /** Slice number parsed from `<PATIENT>_<n>.tif`, else the position among the patient's files. */
  slice: z.number(),
  /** The input image's size. */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** The classifier's P(tumour). */
  probability,
  /** What the gate compared with its threshold: the classifier's P under the reference gate, else the fused score. */
  score: probability,
  /** The slice decision, the final output's: its mask holds tumour (see VolumeOutcome.tumour). */
  tumour: z.boolean(),
  /** The classifier's own call (P(tumour) at or above its threshold); the gate and the mask decide `tumour`. */
  classifierCall: z.boolean(),
  areaPixels: z.number().int().min(0),
  /** The smallest box holding the mask, in input pixels; null when the mask is empty or absent. */
  bbox: boundingBoxSchema.nullable(),
  /** data:image/png;base64 of the 0/255 mask at the input's size; null where the slice holds no tumour. */
  mask: z.string().startsWith('data:image/png;base64,').nullable(),
  /** The input slice as a PNG data URI (include=image). */
  image: z.string().startsWith('data:image/png;base64,').optional(),
});

const vector3 = z.tuple([z.number(), z.number(), z.number()]).readonly();
const row4 = z.tuple([z.number(), z.number(), z.number(), z.number()]).readonly();

/** For a patient sent as volumes (NIfTI or DICOM): the final mask in the input's voxel grid, the tumour's size. */
export const volumeResultSchema = z.strictObject({
  dims: vector3,
  /** Voxel (i, j, k, 1) → world (x, y, z, 1), RAS+ millimetres, row-major. */
  affine: z.tuple([row4, row4, row4, row4]).readonly(),
  /** mm between voxel centres along i, j, k; null when the input carries none. */
  spacing: vector3.nullable(),
  orientation: z.string(),
  tumourVoxels: z.number().int().min(0),
  tumourVolumeMm3: z.number().min(0).nullable(),
  /** data:application/gzip;base64 of mask.nii.gz. */
  mask: z.string().startsWith('data:application/gzip;base64,'),
  /**
   * With include=volume: the input as the models saw it, a 4-D NIfTI (pre-contrast, FLAIR, post-contrast on the
   * 0–255 scale, FLAIR standing in for a sequence not sent) on the mask's grid, gzip'd, as a data URI.
   */
  image: z.string().startsWith('data:application/gzip;base64,').optional(),
  notes: z.array(z.string()),
});

export const predictResponseSchema = z.strictObject({
  notice: z.string(),
  /** The models' names (their details come from /api/models). */
  models: z.strictObject({ classifier: z.string(), segmenter: z.string() }),
  /** The fusion rule that decided which slices hold tumour. */
  gate: fusionConfigSchema,
  patients: z.array(patientPredictionSchema),
  slices: z.array(sliceResultSchema),
  volume: volumeResultSchema.optional(),
});

export type BoundingBox = z.infer<typeof boundingBoxSchema>;
export type PatientPrediction = z.infer<typeof patientPredictionSchema>;
export type SliceResult = z.infer<typeof sliceResultSchema>;
export type VolumeResult = z.infer<typeof volumeResultSchema>;
export type PredictResponse = z.infer<typeof predictResponseSchema>;

export const PREDICTION_NOTICE =
  'Research tool, not a medical device. These results must not be used to diagnose, treat or make any ' +
  'clinical decision.';
