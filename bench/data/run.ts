// bench/data: how fast the data layer feeds training. Decodes and caches every slice of a kaggle_3m folder (the
// 80 development patients: 2,805 image + mask pairs), then times batch assembly with augmentation against one
// Adam step of the default U-Net at the same batch and size. The last line is the headline figure:
//   decode+cache <n> slices: <seconds> s; batch assembly: <percent>% of a train step
//
//   node --import tsx bench/data/run.ts [--data <kaggle_3m>] [--batch 8] [--size 256] [--batches 10] [--steps 1]
// Without --data it uses .tmp/lgg/kaggle_3m, unpacking the development set from ../shared/lgg when missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { integer } from '../../src/cli/options.ts';
import { DEFAULT_AUGMENT } from '../../src/data/augment.ts';
import { assembleBatch } from '../../src/data/batch.ts';
import { scanDataset } from '../../src/data/dataset-index.ts';
import { RESCALE_256 } from '../../src/data/preprocess.ts';
import { mulberry32 } from '../../src/data/random.ts';
import { epochIndices } from '../../src/data/sampler.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import { Adam, F, getNumThreads, manualSeed, rand, tidy } from '../../src/engine/index.ts';
import { UNet } from '../../src/models/unet.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '256' },
    batches: { type: 'string', default: '10' },
    steps: { type: 'string', default: '1' },
  },
});
const batchSize = integer('--batch', { min: 1 })(values.batch);
const size = integer('--size', { min: 1 })(values.size);

function defaultData(): string {
  const root = join(repoRoot, '.tmp', 'lgg', 'kaggle_3m');
  const unpack = join(repoRoot, '..', 'shared', 'lgg', 'unpack');
  if (!existsSync(unpack)) {
    if (existsSync(root)) return root;
    throw new Error(`no --data given and ${unpack} not found`);
  }
  execFileSync('bash', [unpack, join(repoRoot, '.tmp', 'lgg')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return root;
}

const data = values.data ?? defaultData();
const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;

// 1. Decode and cache every slice (file reads included: run twice to see a warm page cache).
let started = process.hrtime.bigint();
const index = scanDataset(data);
const cache = await loadSlices(index, { width: size, height: size });
const decodeSeconds = seconds(started);
const mib = (cache.images.length + (cache.masks?.length ?? 0)) / 2 ** 20;
console.log(
  `decode+cache: ${index.patients.length} patients, ${cache.count} slices, ${mib.toFixed(0)} MiB in memory, ` +
    `${decodeSeconds.toFixed(2)} s (${((1000 * decodeSeconds) / cache.count).toFixed(2)} ms a slice)`,
);

// 2. Batch assembly with the default augmentation, from a tumour-oversampling order.
const positive = Array.from(cache.tumourPixels, (v) => v > 0);
const rng = mulberry32(0);
const order = epochIndices(positive, { kind: 'tumour-oversampling', factor: 2 }, rng);
const preprocess = { ...RESCALE_256, width: size, height: size };
const batches = integer('--batches', { min: 1 })(values.batches);
tidy(() => assembleBatch(cache, order.subarray(0, batchSize), { preprocess, augment: DEFAULT_AUGMENT, rng }));
started = process.hrtime.bigint();
for (let b = 0; b < batches; b++) {
  const indices = order.subarray(b * batchSize, (b + 1) * batchSize);
  tidy(() => {
    assembleBatch(cache, indices, { preprocess, augment: DEFAULT_AUGMENT, rng });
  });
}
const batchSeconds = seconds(started) / batches;
console.log(
  `batch assembly (batch ${batchSize}, ${size}×${size}, flips/rotation/scale/brightness/contrast): ${(1000 * batchSeconds).toFixed(1)} ms`,
);

// 3. One Adam step of the default U-Net at the same batch and size (after a warm-up step).
manualSeed(0);
const net = new UNet();
const optimizer = new Adam(net.parameters(), { lr: 1e-4 });
const step = () =>
  tidy(() => {
    const x = rand([batchSize, 3, size, size]);
    const y = rand([batchSize, 1, size, size]).gt(0.9).float();
    optimizer.zeroGrad();
    F.bceWithLogits(net.forward(x), y).backward();
    optimizer.step();
  });
step();
const steps = integer('--steps', { min: 1 })(values.steps);
started = process.hrtime.bigint();
for (let s = 0; s < steps; s++) step();
const stepSeconds = seconds(started) / steps;
console.log(
  `U-Net train step (batch ${batchSize}, ${size}×${size}, ${getNumThreads()} threads): ${stepSeconds.toFixed(2)} s`,
);

console.log(
  `decode+cache ${cache.count} slices: ${decodeSeconds.toFixed(1)} s; batch assembly: ${((100 * batchSeconds) / stepSeconds).toFixed(1)}% of a train step`,
);
