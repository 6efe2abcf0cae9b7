// `tumorscope demo`: proves the whole engine on real data in about a minute. Unpacks two patients of the LGG set
// (from ../shared/lgg unless --data is given), trains a small U-Net on their tumour slices and prints the loss as
// it falls. Research tool, not a medical device.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { readTiff } from '../../data/read-image.ts';
import {
  Adam,
  cat,
  F,
  getNumThreads,
  manualSeed,
  noGrad,
  setNumThreads,
  softDiceLoss,
  type Tensor,
  tensor,
  tidy,
} from '../../engine/index.ts';
import { UNet } from '../../models/unet.ts';
import { integer } from '../options.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DEMO_DEPTH = 3;
/** The U-Net halves its input DEMO_DEPTH times and joins it back: sizes must divide evenly. */
const DEMO_SIZE_STEP = 2 ** DEMO_DEPTH;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train a small U-Net on a few real slices and show the loss falling')
    .option('--data <dir>', 'a kaggle_3m folder (default: unpack 2 patients from ../shared/lgg)')
    .option('--steps <n>', 'training steps', integer('--steps', { min: 1 }), 60)
    .option(
      '--size <px>',
      'slice size for the demo',
      integer('--size', {
        min: DEMO_SIZE_STEP,
        multipleOf: DEMO_SIZE_STEP,
        why: `the demo's U-Net halves it ${DEMO_DEPTH} times`,
      }),
      64,
    )
    .option('--threads <n>', 'libtorch threads', integer('--threads', { min: 1 }))
    .option('--seed <n>', 'random seed', integer('--seed'), 0)
    .action((o: { data?: string; steps: number; size: number; threads?: number; seed: number }) => {
      if (o.threads) setNumThreads(o.threads);
      runDemo(o.data ?? unpackSample(), o.steps, o.size, o.seed);
    });
}

function unpackSample(): string {
  const shared = join(repoRoot, '..', 'shared', 'lgg');
  const dest = join(repoRoot, '.tmp', 'demo');
  if (!existsSync(join(shared, 'unpack'))) {
    throw new Error(`no --data given and ${shared}/unpack not found: pass --data <kaggle_3m folder>`);
  }
  execFileSync('bash', [join(shared, 'unpack'), dest, '2'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return join(dest, 'kaggle_3m');
}

/** Tumour slices of every patient folder as [N,3,size,size] images in [0,1] and [N,1,size,size] masks. */
function loadTumourSlices(root: string, size: number): { images: Tensor; masks: Tensor; count: number } {
  const images: Tensor[] = [];
  const masks: Tensor[] = [];
  const patients = readdirSync(root, { withFileTypes: true }).filter(
    (d) => d.isDirectory() && d.name.startsWith('TCGA_'),
  );
  if (patients.length === 0) throw new Error(`${root}: no patient folders (TCGA_*) found`);
  for (const patient of patients) {
    const dir = join(root, patient.name);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('_mask.tif'))) {
      const mask = readTiff(join(dir, file));
      if (!mask.data.some((v) => v > 0)) continue;
      const image = readTiff(join(dir, file.replace('_mask.tif', '.tif')));
      tidy(() => {
        const img = tensor(image.data, [1, image.height, image.width, image.channels])
          .permute(0, 3, 1, 2)
          .float()
          .div(255);
        const m = tensor(mask.data, [1, 1, mask.height, mask.width]).float().gt(0).float();
        images.push(F.interpolate(img, { size, mode: 'bilinear' }).keep());
        masks.push(F.interpolate(m, { size, mode: 'nearest' }).keep());
      });
    }
  }
  return tidy(() => {
    const out = { images: cat(images, 0), masks: cat(masks, 0), count: images.length };
    for (const t of [...images, ...masks]) t.dispose();
    return out;
  });
}

function runDemo(root: string, steps: number, size: number, seed: number): void {
  manualSeed(seed);
  const started = Date.now();
  const { images, masks, count } = loadTumourSlices(root, size);
  console.log(
    `demo: ${count} tumour slices from ${root}, resized to ${size}×${size}; ${getNumThreads()} threads`,
  );
  const net = new UNet({ inChannels: 3, outChannels: 1, features: 8, depth: DEMO_DEPTH });
  const optimizer = new Adam(net.parameters(), { lr: 3e-3 });
  const batch = Math.min(16, count);
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const loss = tidy(() => {
      const start = ((step - 1) * batch) % Math.max(1, count - batch + 1);
      const x = images.narrow(0, start, batch);
      const y = masks.narrow(0, start, batch);
      optimizer.zeroGrad();
      const logits = net.forward(x);
      const l = F.bceWithLogits(logits, y).add(softDiceLoss(F.sigmoid(logits), y));
      l.backward();
      optimizer.step();
      return l.item();
    });
    losses.push(loss);
    if (step === 1 || step % 10 === 0)
      console.log(`step ${String(step).padStart(3)}  loss ${loss.toFixed(4)}`);
  }
  const dice = noGrad(() =>
    tidy(() => {
      net.eval();
      const pred = F.sigmoid(net.forward(images)).gt(0.5).float();
      const inter = pred.mul(masks).sum().item();
      return (2 * inter) / (pred.sum().item() + masks.sum().item() + 1e-9);
    }),
  );
  const first = mean(losses.slice(0, 5));
  const last = mean(losses.slice(-5));
  console.log(
    `loss ${first.toFixed(4)} -> ${last.toFixed(4)} (mean of first and last 5 steps); training-set Dice ${dice.toFixed(3)}`,
  );
  console.log(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s. Research tool, not a medical device.`,
  );
  if (!(last < first)) process.exitCode = 1;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
