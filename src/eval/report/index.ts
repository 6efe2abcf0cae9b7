// The HTML report and the writer of an evaluation directory.
export {
  buildReportFigures,
  type ReportFigureName,
  type ReportFigures,
  type TrainingLogs,
} from './figures.ts';
export { galleryItem, type RawImage } from './gallery-images.ts';
export {
  buildReportHtml,
  DISCLAIMER,
  escapeHtml,
  formatMetric,
  type GalleryItem,
  isPng,
  namespaceSvgIds,
  type ReportInput,
  renderReportHtml,
} from './html.ts';
export { type WrittenReport, writeEvaluationReport } from './write.ts';
