// Pure metrics of binary classification and segmentation: numbers and typed arrays in, numbers out (no engine,
// no I/O), so that training, evaluation and the browser share one implementation.
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
  averagePrecision,
  averagePrecisionOfCurve,
  type PrecisionRecallCurve,
  precisionRecallCurve,
} from './precision-recall.ts';
export { type Ranking, rankByScore, type ThresholdStep } from './ranking.ts';
export { type RocCurve, rocAuc, rocAucOfCurve, rocCurve, trapezoid } from './roc.ts';
export { dice, emptyOverlap, iou, maskOverlap, type Overlap, sumOverlaps } from './segmentation.ts';
export { mean, median, orNull, ratio, sampleStandardDeviation } from './stats.ts';
export { chooseThresholdYouden, type ThresholdChoice } from './threshold.ts';
