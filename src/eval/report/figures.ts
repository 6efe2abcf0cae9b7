// Every figure of the report, drawn from metrics.json, curves.json and the training logs only.
import type { CurvesJson } from '../curves-json.ts';
import type { MetricsJson } from '../metrics-json.ts';
import { confusionMatrixFigure } from '../plots/confusion.ts';
import { patientDiceFigure } from '../plots/patient-dice.ts';
import { precisionRecallFigure } from '../plots/precision-recall.ts';
import { type Figure, formatFigure } from '../plots/render.ts';
import { rocFigure } from '../plots/roc.ts';
import { trainingCurvesFigure } from '../plots/training.ts';
import type { TrainingLogRecord } from '../training-log.ts';

export interface TrainingLogs {
  classifier?: readonly TrainingLogRecord[];
  segmenter?: readonly TrainingLogRecord[];
}

/** File stems of the figures, as written under figures/. */
export type ReportFigureName =
  | 'roc'
  | 'precision-recall'
  | 'confusion-matrix'
  | 'patient-dice'
  | 'training-classifier'
  | 'training-segmenter';

/** The training figures are absent when their log is missing or holds no epoch figures. */
export type ReportFigures = Partial<Record<ReportFigureName, Figure>>;

export async function buildReportFigures(
  metrics: MetricsJson,
  curves: CurvesJson,
  trainingLogs: TrainingLogs = {},
): Promise<ReportFigures> {
  const c = metrics.classification;
  const operatingPoint =
    c.recall === null || c.specificity === null
      ? undefined
      : {
          fpr: 1 - c.specificity,
          tpr: c.recall,
          label: `threshold ${formatFigure(c.threshold)}: TPR ${formatFigure(c.recall)}, FPR ${formatFigure(1 - c.specificity)}`,
        };
  const figures: ReportFigures = {
    roc: await rocFigure(curves.roc.points, curves.roc.auc, operatingPoint),
    'precision-recall': await precisionRecallFigure(
      curves.precisionRecall.points,
      curves.precisionRecall.averagePrecision,
      curves.precisionRecall.baseline,
    ),
    'confusion-matrix': await confusionMatrixFigure(c.confusion, c.threshold),
    'patient-dice': await patientDiceFigure(metrics.endToEnd),
  };
  const classifier = await trainingCurvesFigure(trainingLogs.classifier ?? [], 'Classifier training');
  if (classifier !== null) figures['training-classifier'] = classifier;
  const segmenter = await trainingCurvesFigure(trainingLogs.segmenter ?? [], 'Segmenter training');
  if (segmenter !== null) figures['training-segmenter'] = segmenter;
  return figures;
}
