// The public entry point of eval: metric functions, the metrics.json / curves.json builders, plots and report.
// Everything above plots/ and report/ is pure (no I/O, no engine) and runs in a browser as well.

export { checkBinaryInputs, countPositives } from './binary-inputs.ts';
export {
  accuracy,
  type BinaryScores,
  binaryScores,
  f1,
  precision,
  recall,
  specificity,
} from './classification.ts';
export {
  type ClassificationReport,
  type ClassScores,
  classificationReport,
} from './classification-report.ts';
export { type ConfusionCounts, confusionAtThreshold, confusionFromLabels } from './confusion.ts';
export {
  buildCurvesJson,
  type CurvesJson,
  curvesJsonSchema,
  type PrecisionRecallPoint,
  type RocPoint,
} from './curves-json.ts';
export { metricDefinitions } from './definitions.ts';
export { buildEvaluation, type Evaluation } from './evaluation.ts';
export { type GallerySelection, selectGallerySlices } from './gallery.ts';
export {
  buildMetricsJson,
  type MetricsInput,
  type MetricsJson,
  type ModelInfo,
  metricsJsonSchema,
} from './metrics-json.ts';
export {
  type PatientClassification,
  type PatientLabels,
  patientClassification,
  patientLabels,
} from './patients.ts';
export {
  averagePrecision,
  averagePrecisionOfCurve,
  type PrecisionRecallCurve,
  precisionRecallCurve,
} from './precision-recall.ts';
export { type Ranking, rankByScore, type ThresholdStep } from './ranking.ts';
export { type RocCurve, rocAuc, rocAucOfCurve, rocCurve, trapezoid } from './roc.ts';
export { dice, emptyOverlap, iou, maskOverlap, type Overlap, sumOverlaps } from './segmentation.ts';
export {
  type EndToEndSummary,
  endToEndSummary,
  type PatientSegmentation,
  patientSegmentation,
  type SegmenterSliceSummary,
  segmenterSliceSummary,
} from './segmentation-summary.ts';
export {
  checkSliceRecords,
  groupByPatient,
  type SlicePrediction,
  type SliceRecord,
  toSliceRecord,
} from './slices.ts';
export { mean, median, orNull, ratio } from './stats.ts';
export { chooseThresholdYouden, type ThresholdChoice } from './threshold.ts';
export {
  parseTrainingLog,
  type TrainingLogRecord,
  type TrainingPoint,
  type TrainingSplit,
  trainingPoints,
} from './training-log.ts';
