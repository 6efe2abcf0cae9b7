// What a cross-validation report shows: cv-metrics.json as src/pipeline/cv-report.ts writes it (the parts the
// report reads; the writer is type-checked against this schema, and a file read back is validated by it), the
// out-of-fold ROC curves (cv-curves.json), and how far each fold has got. Pure: no I/O.
import { z } from 'zod';
import { mean, orNull, sampleStandardDeviation } from '../metrics/stats.ts';
import { ttaModes } from '../postprocess/config.ts';
import { fusionConfigSchema } from '../postprocess/fusion.ts';
import { rocJsonSchema } from './curves-json.ts';
import { confusionSchema } from './metrics-json.ts';

/** A figure in [0, 1], or null when undefined. */
const unit = z.number().min(0).max(1).nullable();
const count = z.number().int().nonnegative();

/** One choice of the whole pipeline after the networks: how maps become masks and which slices keep theirs. */
const choiceSchema = z.object({
  segmenter: z.object({
    tta: z.enum(ttaModes),
    threshold: z.number().min(0).max(1),
    minComponentArea: count,
  }),
  fusion: fusionConfigSchema,
  largest3DComponent: z.boolean(),
});
export type CvChoice = z.infer<typeof choiceSchema>;

const foldClassificationSchema = z.object({ accuracy: unit, auc: unit, recall: unit, specificity: unit });
export type FoldClassification = z.infer<typeof foldClassificationSchema>;

const sliceClassificationSchema = foldClassificationSchema.extend({
  precision: unit,
  f1: unit,
  /** One threshold, or one per fold when each fold's was chosen on the others. */
  threshold: z.union([z.number(), z.array(z.number())]),
  confusion: confusionSchema,
});
export type SliceClassification = z.infer<typeof sliceClassificationSchema>;

const diceSummary = { meanPatientDice: unit, medianPatientDice: unit };

export const cvSummarySchema = z.object({
  /** The tumorscope commit that wrote the summary (absent in summaries written before it was recorded). */
  commit: z.string().optional(),
  patients: count,
  folds: z.array(
    z.object({
      fold: count,
      patients: count,
      /** The two-stage detection (a slice is positive iff its final mask holds tumour). */
      classification: foldClassificationSchema,
      classifierAlone: foldClassificationSchema.nullable(),
      endToEnd: z.object(diceSummary),
      chosenOnOtherFolds: choiceSchema,
    }),
  ),
  oof: z.object({
    classification: sliceClassificationSchema,
    classifierAlone: sliceClassificationSchema.nullable(),
    endToEnd: z.object({
      ...diceSummary,
      meanPatientIoU: unit,
      perPatient: z.array(z.object({ id: z.string().min(1), fold: count, dice: unit, iou: unit })),
    }),
    chosenOnAll: z.object({
      classification: sliceClassificationSchema,
      endToEnd: z.object({ ...diceSummary, meanPatientIoU: unit }),
    }),
  }),
  families: z.array(
    z.object({
      family: z.string(),
      chosenOnAll: z.object({ ...diceSummary, candidate: choiceSchema }),
      nested: z.object({ ...diceSummary, meanPatientIoU: unit }),
    }),
  ),
  config: choiceSchema,
  candidatesScored: count,
});
/** The cv-metrics.json a report reads (other keys may be there too). */
export type CvSummary = z.infer<typeof cvSummarySchema>;

/** cv-curves.json: the OOF ROC curves behind the report, as curves.json holds an evaluation's. */
export const cvCurvesJsonSchema = z.strictObject({
  about: z.string(),
  /** The classifier's P(tumour), every OOF slice pooled; null while classifiers are missing. */
  classifierAlone: rocJsonSchema.nullable(),
  /** The fused slice score of the configuration chosen on all OOF patients. */
  twoStage: rocJsonSchema,
});
export type CvCurvesJson = z.infer<typeof cvCurvesJsonSchema>;

/** One stage of one fold: trained yet, epochs in its log, OOF outputs written. */
export interface StageProgress {
  finished: boolean;
  epochsLogged: number;
  oof: boolean;
}

export interface FoldProgress {
  fold: number;
  /** Patients the split holds back in this fold. */
  heldOut: number;
  segmenter: StageProgress;
  classifier: StageProgress;
}

/** Mean and sample standard deviation of a figure over folds; null where undefined (one fold: no sd). */
export function overFolds(values: readonly (number | null)[]): { mean: number | null; sd: number | null } {
  const known = values.filter((v): v is number => v !== null);
  if (known.length < values.length) return { mean: null, sd: null };
  return { mean: orNull(mean(known)), sd: orNull(sampleStandardDeviation(known)) };
}

/** Why a fold is not in the summary, in words: each stage's state. */
export function foldStateInWords(p: FoldProgress): string {
  const stage = (name: string, s: StageProgress) => {
    if (s.finished) return `${name} trained${s.oof ? '' : ', no OOF outputs yet'}`;
    if (s.epochsLogged > 0)
      return `${name} training (${s.epochsLogged} epoch${s.epochsLogged === 1 ? '' : 's'} logged)`;
    return `no ${name} training log here`;
  };
  return `${stage('segmenter', p.segmenter)}; ${stage('classifier', p.classifier)}`;
}
