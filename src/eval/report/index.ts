// The HTML reports (an evaluation's and a cross-validation's) and their writers.
export {
  buildCvReportFigures,
  buildCvReportHtml,
  type CvReportFigureName,
  type CvReportFigures,
  type CvReportInput,
  type CvStageName,
  type FoldTrainingLog,
  renderCvReportHtml,
} from './cv-html.ts';
export {
  buildReportFigures,
  type ReportFigureName,
  type ReportFigures,
  type TrainingLogs,
} from './figures.ts';
export { galleryItem, type RawImage } from './gallery-images.ts';
export {
  buildReportHtml,
  type GalleryItem,
  isPng,
  type ReportInput,
  renderReportHtml,
} from './html.ts';
export { DISCLAIMER, escapeHtml, formatMetric, namespaceSvgIds } from './page.ts';
export { type WrittenReport, writeCvReport, writeEvaluationReport } from './write.ts';
