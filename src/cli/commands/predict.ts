// `tumorscope predict <input> --out DIR`: the two stages on new slices (no ground truth needed), with the shipped
// models unless others are given. Writes a mask and an overlay PNG per positive slice and summary.json, then
// prints a table per patient. Research tool, not a medical device.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { DataError } from '../../data/errors.ts';
import { getNumThreads, setNumThreads } from '../../engine/index.ts';
import { inferenceBackends } from '../../export/backend-runners.ts';
import type { PatientPrediction } from '../../inference/predict-slices.ts';
import { progressReporter } from '../../inference/progress.ts';
import { INFERENCE_BATCH, loadModels } from '../../pipeline/default-models.ts';
import { predictFiles } from '../../pipeline/predict-files.ts';
import { RESEARCH_NOTICE } from '../../pipeline/predict-summary.ts';
import {
  PROBABILITIES_FILE,
  predictVolume,
  type VolumePredictSummary,
} from '../../pipeline/predict-volume.ts';
import { describeGate, resolveGate } from '../../postprocess/fusion.ts';
import { isVolumePath, type VolumeSources } from '../../volume/read-patient.ts';
import { gateChoice, type InferenceValues, inferenceOptions } from '../options.ts';

interface PredictValues extends InferenceValues {
  out: string;
  skipBadFiles?: boolean;
  pre?: string;
  flair?: string;
  post?: string;
  saveProbabilities?: boolean;
}

/**
 * What to predict on: slices (a file or folder), one 4-D volume (a NIfTI path given as the input), or sequences
 * apart (--flair, with --pre and --post). Checked, and the paths' existence too, before any model is loaded.
 */
function inputOf(
  input: string | undefined,
  o: PredictValues,
): { slices: string } | { volume: VolumeSources } {
  const sequences = { pre: o.pre, flair: o.flair, post: o.post };
  const given = Object.values(sequences).some((path) => path !== undefined);
  if (given && input !== undefined) {
    throw new InvalidArgumentError(`give either <input> or --pre/--flair/--post, not both (got ${input})`);
  }
  if (given && o.flair === undefined) {
    throw new InvalidArgumentError(
      '--flair is required with --pre or --post (a missing sequence is replaced by FLAIR)',
    );
  }
  if (!given && input === undefined) throw new InvalidArgumentError('give an <input> or --flair FILE');
  for (const path of [input, ...Object.values(sequences)]) {
    if (path !== undefined && !existsSync(path)) throw new DataError('not-found', path, 'does not exist');
  }
  if (given) {
    const present = Object.fromEntries(Object.entries(sequences).filter(([, path]) => path !== undefined));
    return { volume: { ...present, flair: o.flair! } };
  }
  if (isVolumePath(input!)) return { volume: { volume: input! } };
  if (o.saveProbabilities) {
    throw new InvalidArgumentError(
      '--save-probabilities writes a NIfTI volume: it needs a volume as the input',
    );
  }
  return { slices: input! };
}

/**
 * One row per patient, columns padded to their widest cell: the slices whose final mask holds tumour, beside
 * those the classifier alone called.
 */
export function patientTable(patients: readonly PatientPrediction[]): string[] {
  const rows = [
    ['patient', 'slices', 'tumour', 'classifier called', 'slice range', 'volume (voxels)'],
    ...patients.map((p) => [
      p.patient,
      String(p.slices),
      String(p.positiveSlices),
      String(p.classifierCalledSlices),
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

/** The steps that read a patient's whole volume: one line per step, naming its patients unless it is all of them. */
export function volumeStepLines(patients: readonly PatientPrediction[]): string[] {
  const byStep = new Map<string, string[]>();
  for (const p of patients) {
    for (const step of p.volumeSteps) byStep.set(step, [...(byStep.get(step) ?? []), p.patient]);
  }
  return [...byStep].map(([step, who]) =>
    who.length === patients.length ? `volume step: ${step}` : `volume step (${who.join(', ')}): ${step}`,
  );
}

export function registerPredict(program: Command): void {
  const command = program
    .command('predict')
    .description(
      'find and outline tumours in MRI slices with the two-stage pipeline (no ground truth needed)',
    )
    .argument(
      '[input]',
      'a slice (TIFF, PNG or JPEG), a patient folder or a kaggle_3m folder (masks are ignored); or one ' +
        'patient as a 4-D NIfTI volume of three channels (pre-contrast, FLAIR, post-contrast)',
    )
    .requiredOption(
      '--out <dir>',
      'where to write summary.json and the mask and overlay PNGs, all at the end (nothing is deleted)',
    );
  inferenceOptions(command, { batch: INFERENCE_BATCH })
    .option(
      '--flair <volume>',
      'the FLAIR sequence: a NIfTI file or a DICOM series folder (instead of <input>)',
    )
    .option(
      '--pre <volume>',
      'the pre-contrast sequence on the same grid (default: FLAIR stands in, as in the dataset)',
    )
    .option('--post <volume>', 'the post-contrast sequence on the same grid (default: FLAIR stands in)')
    .option(
      '--save-probabilities',
      `volumes only: also write the per-voxel tumour probability (${PROBABILITIES_FILE})`,
    )
    .option(
      '--skip-bad-files',
      'warn about unreadable, oversized or odd-sized slices (and patients over a limit) and go on without them',
    )
    .action(async (input: string | undefined, o: PredictValues) => {
      const what = inputOf(input, o);
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
      const backends = await inferenceBackends(models, {
        backend: o.backend,
        batch: o.batch,
        threads: getNumThreads(),
      });
      for (const line of backends.description) console.log(line);
      const runners = backends.runners;
      const bar = progressReporter('predict (slices)', (line) => console.log(line));
      const { summary, summaryPath } =
        'volume' in what
          ? await predictVolume({
              sources: what.volume,
              out: resolve(o.out),
              models,
              runners,
              fusion,
              batch: o.batch,
              saveProbabilities: o.saveProbabilities ?? false,
              onProgress: bar.update,
            })
          : await predictFiles({
              input: what.slices,
              out: resolve(o.out),
              models,
              runners,
              fusion,
              batch: o.batch,
              skipBadFiles: o.skipBadFiles ?? false,
              warn: (message) => console.error(`warning: ${message}`),
              onProgress: bar.update,
            });
      bar.stop();
      await backends.release();
      if ('volume' in summary) {
        const v = (summary as VolumePredictSummary).volume;
        for (const note of v.notes) console.error(`note: ${note}`);
        const size =
          v.tumourVolumeMm3 === null
            ? `${v.tumourVoxels} voxels`
            : `${(v.tumourVolumeMm3 / 1000).toFixed(2)} cm³ (${v.tumourVoxels} voxels)`;
        console.log(
          `tumour volume ${size}; mask ${resolve(o.out, v.mask)} (${v.orientation}, ${v.dims.join('×')})`,
        );
      }
      for (const line of patientTable(summary.patients)) console.log(line);
      for (const line of volumeStepLines(summary.patients)) console.log(line);
      if (summary.skipped.length > 0)
        console.error(`skipped ${summary.skipped.length} bad files (see warnings above)`);
      const positive = summary.slices.filter((s) => s.tumour).length;
      console.log(
        `${summary.slices.length} slices, ${positive} with tumour in the final mask; wrote ${summaryPath} ` +
          `in ${((performance.now() - started) / 1000).toFixed(1)} s. ${RESEARCH_NOTICE}`,
      );
    });
}
