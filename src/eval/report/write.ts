// Writes a report to a directory: figures/<name>.svg and .png, the JSON the page is made from, and report.html.
// The files are staged and moved into place together at the end, report.html last: a failed write (a full disk)
// leaves the directory as it was, and a directory with a report in it is complete.
import { jsonBytes } from '../../engine/io/atomic.ts';
import { StagedFiles } from '../../engine/io/staged-files.ts';
import { curvesJsonSchema } from '../curves-json.ts';
import { cvCurvesJsonSchema } from '../cv-summary.ts';
import { metricsJsonSchema } from '../metrics-json.ts';
import type { Figure } from '../plots/render.ts';
import { buildCvReportFigures, type CvReportInput, renderCvReportHtml } from './cv-html.ts';
import { buildReportFigures } from './figures.ts';
import { type ReportInput, renderReportHtml } from './html.ts';

export interface WrittenReport {
  dir: string;
  files: string[];
}

const text = (s: string) => new TextEncoder().encode(s);

/** Stages figures/<name>.svg and .png of every figure, then each (file, bytes), and moves them all into place. */
function writeStaged(
  outDir: string,
  figures: Partial<Record<string, Figure>>,
  rest: readonly (readonly [string, Uint8Array])[],
): string[] {
  const output = new StagedFiles(outDir);
  const files: string[] = [];
  const write = (file: string, bytes: Uint8Array) => {
    output.write(file, bytes);
    files.push(file);
  };
  try {
    for (const [name, figure] of Object.entries(figures)) {
      if (figure === undefined) continue;
      write(`figures/${name}.svg`, text(figure.svg));
      write(`figures/${name}.png`, figure.png);
    }
    for (const [file, bytes] of rest) write(file, bytes);
    output.commit();
  } catch (err) {
    output.discard();
    throw err;
  }
  return files;
}

export async function writeEvaluationReport(outDir: string, input: ReportInput): Promise<WrittenReport> {
  const metrics = metricsJsonSchema.parse(input.metrics);
  const curves = curvesJsonSchema.parse(input.curves);
  const figures = await buildReportFigures(metrics, curves, input.trainingLogs);
  const files = writeStaged(outDir, figures, [
    ['metrics.json', jsonBytes(metrics)],
    ['curves.json', jsonBytes(curves)],
    ['report.html', text(renderReportHtml({ ...input, metrics, curves }, figures))],
  ]);
  return { dir: outDir, files };
}

/** A cross-validation's report beside its cv-metrics.json: figures/, cv-curves.json, report.html. */
export async function writeCvReport(cvDir: string, input: CvReportInput): Promise<WrittenReport> {
  const curves = cvCurvesJsonSchema.parse(input.curves);
  const figures = await buildCvReportFigures({ ...input, curves });
  const files = writeStaged(cvDir, figures, [
    ['cv-curves.json', jsonBytes(curves)],
    ['report.html', text(renderCvReportHtml({ ...input, curves }, figures))],
  ]);
  return { dir: cvDir, files };
}
