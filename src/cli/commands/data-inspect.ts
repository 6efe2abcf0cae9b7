// `tumorscope data inspect <dir>`: what a dataset holds (patients, slices, tumour slices per institution,
// tumour-area statistics, slices per patient) and a PNG grid of random slices with their masks overlaid.
// Research tool, not a medical device.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { scanDataset } from '../../data/dataset-index.ts';
import { formatSummary, summariseDataset } from '../../data/dataset-summary.ts';
import { DataError } from '../../data/errors.ts';
import { chooseGridSlices, overlayGrid, tileCaption, writeRgbPng } from '../../data/overlay-grid.ts';
import { mulberry32 } from '../../data/random.ts';
import { loadSlices } from '../../data/slice-cache.ts';
import { writeJsonAtomic } from '../../engine/io/atomic.ts';
import { progressReporter } from '../../inference/progress.ts';
import { errorMessage } from '../error-message.ts';
import { integer } from '../options.ts';

interface InspectOptions {
  grid: string;
  gridSlices: number;
  columns: number;
  size: number;
  seed: number;
  json?: string;
  skipBadFiles?: boolean;
  metadata: boolean;
}

export function registerDataInspect(program: Command): void {
  const data =
    program.commands.find((c) => c.name() === 'data') ??
    program.command('data').description('look at, check and split MRI slice datasets');
  data
    .command('inspect')
    .description('count patients, slices and tumour slices and draw random slices with their masks')
    .argument('<dir...>', 'a kaggle_3m folder, a patient folder, or slice files')
    .option('--grid <png>', 'where to write the picture of random slices', 'data-inspect.png')
    .option('--grid-slices <n>', 'slices in the picture', integer('--grid-slices', { min: 1 }), 16)
    .option('--columns <n>', 'columns in the picture', integer('--columns', { min: 1 }), 4)
    .option(
      '--size <px>',
      'slice size to decode to (slices of another size are resized)',
      integer('--size', { min: 1 }),
      256,
    )
    .option('--seed <n>', 'seed for choosing the slices', integer('--seed'), 0)
    .option('--json <path>', 'also write the summary as JSON')
    .option('--skip-bad-files', 'warn about unreadable or unpaired files and go on without them')
    .option('--no-metadata', 'do not require data.csv in a kaggle_3m folder')
    .action(async (dirs: string[], o: InspectOptions, command: Command) => {
      try {
        await inspect(dirs, o);
      } catch (err) {
        // Bad input is the user's to fix: say what and where, without a stack trace.
        if (!(err instanceof DataError)) throw err;
        console.error(`error: ${errorMessage(err, command)}`);
        process.exitCode = 1;
      }
    });
}

async function inspect(dirs: string[], o: InspectOptions): Promise<void> {
  const started = Date.now();
  const skipBadFiles = o.skipBadFiles ?? false;
  const warn = (m: string) => console.error(`warning: ${m}`);
  const index = scanDataset(dirs.length === 1 ? dirs[0]! : dirs, {
    skipBadFiles,
    requireMetadata: o.metadata,
    warn,
  });
  // 'decoding:' starts each line, so that a reader of stderr can tell progress from an error.
  const progress = progressReporter('decoding:', (line) => console.error(line));
  let cache: Awaited<ReturnType<typeof loadSlices>>;
  try {
    cache = await loadSlices(index, {
      width: o.size,
      height: o.size,
      skipBadFiles,
      warn,
      onProgress: progress.update,
    });
  } finally {
    progress.stop();
  }
  const summary = summariseDataset(index, cache);
  console.log(formatSummary(summary));
  const picked = chooseGridSlices(cache, o.gridSlices, mulberry32(o.seed));
  const grid = overlayGrid(cache, picked, { columns: o.columns });
  const gridPath = resolve(o.grid);
  const captions = grid.tiles.map((tile) => ({ tile, text: tileCaption(cache, tile.slice) }));
  await writeRgbPng(gridPath, grid, captions);
  console.log(
    `picture: ${gridPath} (${picked.length} random slice${picked.length === 1 ? '' : 's'}, each captioned with its patient and slice number${cache.masks ? ', masks in red' : ''}, seed ${o.seed})`,
  );
  if (o.json) {
    writeJsonAtomic(resolve(o.json), summary);
    console.log(`summary: ${resolve(o.json)}`);
  }
  if (summary.skippedFiles > 0)
    console.error(`skipped ${summary.skippedFiles} bad files (see warnings above)`);
  console.log(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s. Research tool, not a medical device.`,
  );
}
