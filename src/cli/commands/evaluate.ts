// `tumorscope evaluate`: runs the two-stage pipeline on slices with ground truth and writes metrics.json,
// curves.json, figures/ and report.html into --out (see docs/METRICS.md). Research tool, not a medical device.
import { type Command, Option } from 'commander';
import type { SplitName } from '../../data/split.ts';
import { getNumThreads, setNumThreads } from '../../engine/index.ts';
import { inferenceBackends } from '../../export/backend-runners.ts';
import { evaluatePipeline, evaluationSummary } from '../../pipeline/evaluate.ts';
import { gateChoice, type InferenceValues, inferenceOptions, integer } from '../options.ts';

interface EvaluateValues extends InferenceValues {
  data: string;
  split?: string;
  subset: SplitName;
  fold: number;
  out: string;
  gallery: number;
  skipBadFiles: boolean;
  metadata: boolean;
  postprocessSteps: boolean;
}

export function registerEvaluate(program: Command): void {
  const command = program
    .command('evaluate')
    .description('score the two-stage pipeline on slices with ground truth and write an HTML report')
    .requiredOption('--data <dir>', 'a kaggle_3m folder with masks')
    .option('--split <manifest.json>', 'a split manifest (default: every slice of --data is evaluated)')
    .addOption(
      new Option('--subset <name>', 'the split to evaluate')
        .choices(['train', 'val', 'test'])
        .default('test'),
    )
    .option('--fold <n>', 'fold of a k-fold manifest (0-based)', integer('--fold'), 0)
    .requiredOption('--out <dir>', 'where to write metrics.json, curves.json, figures/ and report.html');
  inferenceOptions(command, { batch: 16 })
    .option(
      '--gallery <n>',
      'best and worst tumour slices shown in the report, each',
      integer('--gallery'),
      4,
    )
    .option('--skip-bad-files', 'warn about unreadable files and go on without them', false)
    .option('--no-metadata', 'do not require data.csv in a kaggle_3m folder')
    .option(
      '--postprocess-steps',
      'also score each post-processing step on its own (postprocess-steps.json; costs one more segmenter pass)',
      false,
    )
    .action(async (o: EvaluateValues) => {
      const choice = gateChoice(o);
      if (o.threads) setNumThreads(o.threads);
      const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
      const { gate: _name, gateThreshold: _threshold, sliceRadius: _radius, metadata, backend, ...rest } = o;
      const result = await evaluatePipeline({
        ...rest,
        // Without the flag, data.csv is required as the scan decides (TCGA-named patients), not always.
        ...(metadata ? {} : { requireMetadata: false }),
        runnersOf: async (models) => {
          const backends = await inferenceBackends(models, {
            backend,
            batch: o.batch,
            threads: getNumThreads(),
          });
          for (const line of backends.description) log(line);
          return backends.runners;
        },
        ...(choice ? { gate: choice } : {}),
        galleryCount: o.gallery,
        log,
      });
      for (const line of evaluationSummary(result)) console.log(line);
    });
}
