// The shapes of GET /api/health and GET /api/models, as zod schemas with their types inferred (the prediction's
// own shapes are in src/inference/prediction-schema.ts). The server checks its answers against them in the
// tests; the viewer imports the types only.
import { z } from 'zod';
import { postprocessConfigSchema } from '../postprocess/config.ts';
import { fusionConfigSchema } from '../postprocess/fusion.ts';

export const queueStateSchema = z.strictObject({
  running: z.number().int().min(0),
  waiting: z.number().int().min(0),
  limit: z.number().int().min(0),
});

export const healthSchema = z.strictObject({
  status: z.literal('ok'),
  queue: queueStateSchema,
  /** The running prediction's progress, in slices, once its slices are decoded. */
  prediction: z.strictObject({ done: z.number().int().min(0), total: z.number().int().min(0) }).optional(),
});

const classifierInfoSchema = z.strictObject({
  /** The model's base file name (`classifier` for models/classifier). */
  name: z.string(),
  architecture: z.string(),
  /** The size slices are resized to before the network sees them. */
  inputSize: z.strictObject({ width: z.number().int().positive(), height: z.number().int().positive() }),
  /** Classifier: P(tumour) >= threshold calls a slice tumour. Segmenter: the pixel threshold of its masks. */
  threshold: z.number().min(0).max(1),
  /** The model card (test metrics and the like) of the model's JSON, when it has one. */
  card: z.record(z.string(), z.unknown()).nullable(),
});

export const modelsInfoSchema = z.strictObject({
  classifier: classifierInfoSchema,
  segmenter: classifierInfoSchema.extend({ postprocess: postprocessConfigSchema }),
  /** The fusion rule the server decides with (the saved one, or `serve --gate`). */
  gate: fusionConfigSchema,
});

export type QueueState = z.infer<typeof queueStateSchema>;
export type Health = z.infer<typeof healthSchema>;
export type ModelInfo = z.infer<typeof classifierInfoSchema>;
export type ModelsInfo = z.infer<typeof modelsInfoSchema>;
