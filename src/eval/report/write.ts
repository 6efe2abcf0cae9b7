// Writes an evaluation to a directory: metrics.json, curves.json, figures/<name>.svg and .png, report.html.
// The files are staged and moved into place together at the end, report.html last: a failed write (a full disk)
// leaves the directory as it was, and a directory with a report in it is complete.
import { jsonBytes } from '../../engine/io/atomic.ts';
import { StagedFiles } from '../../engine/io/staged-files.ts';
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
  const output = new StagedFiles(outDir);
  const files: string[] = [];
  const text = (s: string) => new TextEncoder().encode(s);
  const write = (file: string, bytes: Uint8Array) => {
    output.write(file, bytes);
    files.push(file);
  };
  try {
    for (const [name, figure] of Object.entries(figures)) {
      write(`figures/${name}.svg`, text(figure.svg));
      write(`figures/${name}.png`, figure.png);
    }
    write('metrics.json', jsonBytes(metrics));
    write('curves.json', jsonBytes(curves));
    write('report.html', text(renderReportHtml({ ...input, metrics, curves }, figures)));
    output.commit();
  } catch (err) {
    output.discard();
    throw err;
  }
  return { dir: outDir, files };
}
