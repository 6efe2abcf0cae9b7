// The public entry point of eval: metric functions, the metrics.json / curves.json builders, plots and report.
// Everything above plots/ and report/ is pure (no I/O, no engine) and runs in a browser as well.

export * from '../metrics/index.ts';
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
export {
  parseTrainingLog,
  type TrainingLogRecord,
  type TrainingPoint,
  type TrainingSplit,
  trainingPoints,
} from './training-log.ts';
