// Writes a report's files to a directory: figures/<name>.svg and .png, the JSON the page is made from, and
// report.html. Each file is written atomically (temporary file, then rename), and report.html last, so a
// directory with a report in it is complete.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../engine/io/atomic.ts';
import { curvesJsonSchema } from '../curves-json.ts';
import { cvCurvesJsonSchema } from '../cv-summary.ts';
import { metricsJsonSchema } from '../metrics-json.ts';
import type { Figure } from '../plots/render.ts';
import { buildCvReportFigures, type CvReportInput, renderCvReportHtml } from './cv-html.ts';
import { buildReportFigures } from './figures.ts';
import { type ReportInput, renderReportHtml } from './html.ts';

/** Paths written, relative to the output directory. */
export interface WrittenReport {
  dir: string;
  files: string[];
}

const text = (s: string) => new TextEncoder().encode(s);

/** figures/<name>.svg and .png for every figure; returns the paths written. */
function writeFigures(outDir: string, figures: Partial<Record<string, Figure>>): string[] {
  mkdirSync(join(outDir, 'figures'), { recursive: true });
  const files: string[] = [];
  for (const [name, figure] of Object.entries(figures)) {
    if (figure === undefined) continue;
    for (const [ext, bytes] of [
      ['svg', text(figure.svg)],
      ['png', figure.png],
    ] as const) {
      const file = `figures/${name}.${ext}`;
      writeFileAtomic(join(outDir, file), bytes);
      files.push(file);
    }
  }
  return files;
}

export async function writeEvaluationReport(outDir: string, input: ReportInput): Promise<WrittenReport> {
  const metrics = metricsJsonSchema.parse(input.metrics);
  const curves = curvesJsonSchema.parse(input.curves);
  const figures = await buildReportFigures(metrics, curves, input.trainingLogs);
  const files = writeFigures(outDir, figures);
  writeJsonAtomic(join(outDir, 'metrics.json'), metrics);
  writeJsonAtomic(join(outDir, 'curves.json'), curves);
  files.push('metrics.json', 'curves.json');
  writeFileAtomic(
    join(outDir, 'report.html'),
    text(renderReportHtml({ ...input, metrics, curves }, figures)),
  );
  files.push('report.html');
  return { dir: outDir, files };
}

/** A cross-validation's report beside its cv-metrics.json: figures/, cv-curves.json, report.html. */
export async function writeCvReport(cvDir: string, input: CvReportInput): Promise<WrittenReport> {
  const curves = cvCurvesJsonSchema.parse(input.curves);
  const figures = await buildCvReportFigures({ ...input, curves });
  const files = writeFigures(cvDir, figures);
  writeJsonAtomic(join(cvDir, 'cv-curves.json'), curves);
  files.push('cv-curves.json');
  writeFileAtomic(join(cvDir, 'report.html'), text(renderCvReportHtml({ ...input, curves }, figures)));
  files.push('report.html');
  return { dir: cvDir, files };
}
