// `tumorscope predict <input> --out DIR`: the two stages on new slices (no ground truth needed), with the shipped
// models unless others are given. Writes a mask and an overlay PNG per positive slice and summary.json, then
// prints a table per patient. Research tool, not a medical device.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { setNumThreads } from '../../engine/index.ts';
import type { PatientPrediction } from '../../inference/predict-slices.ts';
import { progressReporter } from '../../inference/progress.ts';
import { INFERENCE_BATCH, loadModels } from '../../pipeline/default-models.ts';
import { predictFiles } from '../../pipeline/predict-files.ts';
import { RESEARCH_NOTICE } from '../../pipeline/predict-summary.ts';
import { describeGate, resolveGate } from '../../postprocess/fusion.ts';
import { gateChoice, type InferenceValues, inferenceOptions } from '../options.ts';

interface PredictValues extends InferenceValues {
  out: string;
  skipBadFiles?: boolean;
}

/** One row per patient, columns padded to their widest cell. */
export function patientTable(patients: readonly PatientPrediction[]): string[] {
  const rows = [
    ['patient', 'slices', 'positive', 'slice range', 'volume (voxels)'],
    ...patients.map((p) => [
      p.patient,
      String(p.slices),
      String(p.positiveSlices),
      p.firstPositiveSlice === null ? '-' : `${p.firstPositiveSlice}–${p.lastPositiveSlice}`,
      String(p.volumeVoxels),
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  // The patient column reads left-aligned, the numbers right-aligned.
  return rows.map((r) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
  );
}

export function registerPredict(program: Command): void {
  const command = program
    .command('predict')
    .description(
      'find and outline tumours in MRI slices with the two-stage pipeline (no ground truth needed)',
    )
    .argument(
      '<input>',
      'a slice (TIFF, PNG or JPEG), a patient folder, or a kaggle_3m folder; masks are ignored',
    )
    .requiredOption(
      '--out <dir>',
      'where to write summary.json and the mask and overlay PNGs, all at the end (nothing is deleted)',
    );
  inferenceOptions(command, { batch: INFERENCE_BATCH })
    .option(
      '--skip-bad-files',
      'warn about unreadable, oversized or odd-sized slices (and patients over a limit) and go on without them',
    )
    .action(async (input: string, o: PredictValues) => {
      console.log(RESEARCH_NOTICE);
      const choice = gateChoice(o);
      if (o.threads) setNumThreads(o.threads);
      const started = performance.now();
      const models = loadModels({ classifier: o.classifier, segmenter: o.segmenter });
      const fusion = resolveGate(models.segmenter.fusion, models.classifier.config.threshold, choice);
      console.log(
        `classifier ${models.classifier.base} (threshold ${models.classifier.config.threshold.toFixed(4)}); ` +
          `segmenter ${models.segmenter.base} (threshold ${models.segmenter.postprocess.threshold}); ` +
          `gate: ${describeGate(fusion)}`,
      );
      const bar = progressReporter('predict (slices)', (line) => console.log(line));
      const { summary, summaryPath } = await predictFiles({
        input,
        out: resolve(o.out),
        models,
        fusion,
        batch: o.batch,
        skipBadFiles: o.skipBadFiles ?? false,
        warn: (message) => console.error(`warning: ${message}`),
        onProgress: bar.update,
      });
      bar.stop();
      for (const line of patientTable(summary.patients)) console.log(line);
      if (summary.skipped.length > 0)
        console.error(`skipped ${summary.skipped.length} bad files (see warnings above)`);
      const positive = summary.slices.filter((s) => s.tumour).length;
      console.log(
        `${summary.slices.length} slices, ${positive} positive; wrote ${summaryPath} ` +
          `in ${((performance.now() - started) / 1000).toFixed(1)} s. ${RESEARCH_NOTICE}`,
      );
    });
}
