// Writes an evaluation to a directory: metrics.json, curves.json, figures/<name>.svg and .png, report.html.
// Each file is written atomically (temporary file, then rename), and report.html last, so a directory with a
// report in it is complete.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../engine/io/atomic.ts';
import { curvesJsonSchema } from '../curves-json.ts';
import { metricsJsonSchema } from '../metrics-json.ts';
import { buildReportFigures } from './figures.ts';
import { type ReportInput, renderReportHtml } from './html.ts';

/** Paths written, relative to the output directory. */
export interface WrittenReport {
  dir: string;
  files: string[];
}

export async function writeEvaluationReport(outDir: string, input: ReportInput): Promise<WrittenReport> {
  const metrics = metricsJsonSchema.parse(input.metrics);
  const curves = curvesJsonSchema.parse(input.curves);
  const figures = await buildReportFigures(metrics, curves, input.trainingLogs);
  mkdirSync(join(outDir, 'figures'), { recursive: true });
  const files: string[] = [];
  const text = (s: string) => new TextEncoder().encode(s);
  for (const [name, figure] of Object.entries(figures)) {
    for (const [ext, bytes] of [
      ['svg', text(figure.svg)],
      ['png', figure.png],
    ] as const) {
      const file = `figures/${name}.${ext}`;
      writeFileAtomic(join(outDir, file), bytes);
      files.push(file);
    }
  }
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
