// Figures (vega-lite -> SVG -> PNG). Separate from ../index.ts so that pure metric users do not load vega.
export { confusionMatrixFigure } from './confusion.ts';
export { type PatientDiceSummary, patientDiceFigure } from './patient-dice.ts';
export { precisionRecallFigure } from './precision-recall.ts';
export { FIGURE_FONT, type Figure, formatFigure, renderVegaLite, unitAxis } from './render.ts';
export { type RocSeries, rocComparisonFigure, rocFigure } from './roc.ts';
export { runsTrainingCurvesFigure, type TrainingRun, trainingCurvesFigure } from './training.ts';
