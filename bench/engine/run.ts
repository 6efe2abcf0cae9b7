// bench/engine: the same networks, batch and threads through tumorscope's engine and through PyTorch
// (/usr/bin/python3 with Debian's python3-torch: the same libtorch), taking turns in one run, so that the ratio
// measures only our binding. Prints each time and ours/PyTorch; the last-but-one line is the worst training ratio
// and the last line the worst ratio of all, each against PyTorch run with the same allocator settings.
//
// Training runs as each side trains by default: ours on the layout `tumorscope train` uses (--layout, default
// channels-last) and precision (--precision, default fp32; bf16 is mixed precision, a recipe change), PyTorch as
// users run it (NCHW, float32). A case is MODEL-MODE, or MODEL-MODE@SIZExBATCH for its own
// input size and batch (the project's trainings: DenseNet121 at 128×128 and the ResUNet at 256×256, batch 16).
//
//   npm run bench:engine -- [--threads 2] [--rounds 2] [--iterations 3] [--warmup 2] [--size 256] [--batch 8]
//                           [--layout channels-last|nchw] [--precision fp32|bf16]
//                           [--cases unet-train,densenet-train,unet-infer,densenet-infer,densenet-train@128x16,resunet-train@256x16]
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { integer } from '../../src/cli/options.ts';
import { buildInfo } from '../../src/engine/index.ts';
import {
  DEFAULT_TRAINING_LAYOUT,
  DEFAULT_TRAINING_PRECISION,
  TRAINING_LAYOUTS,
  TRAINING_PRECISIONS,
  type TrainingLayout,
  type TrainingPrecision,
} from '../../src/models/training.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    iterations: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    size: { type: 'string', default: '256' },
    batch: { type: 'string', default: '8' },
    layout: { type: 'string', default: DEFAULT_TRAINING_LAYOUT },
    precision: { type: 'string', default: DEFAULT_TRAINING_PRECISION },
    cases: {
      type: 'string',
      default:
        'unet-train,densenet-train,unet-infer,densenet-infer,densenet-train@128x16,resunet-train@256x16',
    },
  },
});
// Checked as the CLI checks its options: a typo stops here instead of timing nonsense.
const count = (option: string, value: string, min = 1) => integer(`--${option}`, { min })(value);
const threads = count('threads', values.threads);
const rounds = count('rounds', values.rounds);
const iterations = count('iterations', values.iterations);
const warmup = count('warmup', values.warmup, 0);
const size = count('size', values.size);
const batch = count('batch', values.batch);
const cases = values.cases.split(',');
const layout = values.layout as TrainingLayout;
if (!TRAINING_LAYOUTS.includes(layout)) throw new Error(`--layout: ${TRAINING_LAYOUTS.join(' or ')}`);
const precision = values.precision as TrainingPrecision;
if (!TRAINING_PRECISIONS.includes(precision))
  throw new Error(`--precision: ${TRAINING_PRECISIONS.join(' or ')}`);

/** A case's network, mode, input size and batch: MODEL-MODE, or MODEL-MODE@SIZExBATCH. */
function caseSpec(c: string): { name: string; size: number; batch: number } {
  const m = /^([a-z0-9]+-(?:train|infer))(?:@(\d+)x(\d+))?$/.exec(c);
  if (!m)
    throw new Error(`case '${c}': MODEL-train|infer, optionally @SIZExBATCH (e.g. resunet-train@256x16)`);
  return { name: m[1]!, size: m[2] ? Number(m[2]) : size, batch: m[3] ? Number(m[3]) : batch };
}
for (const c of cases) caseSpec(c); // a mistyped case fails before any measurement

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// Each measurement runs in a fresh process, ours as PyTorch's, so that neither side carries the heap or thread
// state of an earlier case.
function ours(c: string): number[] {
  const { name, size, batch } = caseSpec(c);
  const args = [
    '--import',
    'tsx',
    join(import.meta.dirname, 'ours.ts'),
    name,
    threads,
    iterations,
    warmup,
    size,
    batch,
    layout,
    precision,
  ].map(String);
  const out = execFileSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return (JSON.parse(out.trim().split('\n').pop()!) as { times: number[] }).times;
}

// PyTorch twice: as users run it, and with the glibc settings our addon applies at load (native/src/addon.cc),
// so that the second ratio measures the binding alone.
const SAME_ALLOCATOR = { MALLOC_MMAP_THRESHOLD_: '2147483647', MALLOC_TRIM_THRESHOLD_: '2147483647' };

function pytorch(c: string, sameAllocator: boolean): number[] {
  const { name, size, batch } = caseSpec(c);
  const script = join(import.meta.dirname, 'reference.py');
  const args = [script, name, threads, iterations, warmup, size, batch].map(String);
  const env = sameAllocator ? { ...process.env, ...SAME_ALLOCATOR } : process.env;
  const out = execFileSync('/usr/bin/python3', args, {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return (JSON.parse(out.trim().split('\n').pop()!) as { times: number[] }).times;
}

type Side = 'ours' | 'torch' | 'torchSameAlloc';
const label: Record<Side, string> = { ours: 'tumorscope', torch: 'pytorch', torchSameAlloc: 'pytorch+alloc' };

console.log(
  `bench/engine: ${cases.join(', ')}; ${size}×${size}, batch ${batch} unless the case says, ${threads} threads, our training layout ${layout} and precision ${precision}, ${rounds} rounds × ${iterations} timed iterations (+${warmup} warm-up), rotating ours / PyTorch / PyTorch with our allocator settings; tumorscope allocator tuned: ${buildInfo().allocatorTuned}`,
);
const results = new Map<string, Record<Side, number[]>>(
  cases.map((c) => [c, { ours: [], torch: [], torchSameAlloc: [] }]),
);
for (let r = 1; r <= rounds; r++) {
  for (const c of cases) {
    const entry = results.get(c)!;
    // Rotate which side goes first, so that none always runs on a warmer (or more tired) machine.
    const sides: Side[] = ['ours', 'torch', 'torchSameAlloc'];
    const order = [...sides.slice((r - 1) % 3), ...sides.slice(0, (r - 1) % 3)];
    for (const side of order) {
      const t = side === 'ours' ? ours(c) : pytorch(c, side === 'torchSameAlloc');
      entry[side].push(median(t));
      console.log(
        `round ${r}  ${c.padEnd(23)} ${label[side].padEnd(13)} ${median(t).toFixed(3)} s/step  (${t.map((v) => v.toFixed(3)).join(' ')})`,
      );
    }
  }
}
let worst = 0;
let worstTrain = 0;
console.log(
  '\ncase                     tumorscope s  pytorch s  pytorch+alloc s  ours/pytorch  ours/(pytorch+alloc)',
);
for (const [c, r] of results) {
  const [o, t, ta] = [median(r.ours), median(r.torch), median(r.torchSameAlloc)];
  worst = Math.max(worst, o / ta);
  if (caseSpec(c).name.endsWith('-train')) worstTrain = Math.max(worstTrain, o / ta);
  console.log(
    `${c.padEnd(24)} ${o.toFixed(3).padStart(12)} ${t.toFixed(3).padStart(10)} ${ta.toFixed(3).padStart(16)}  ${(o / t).toFixed(3).padStart(12)}  ${(o / ta).toFixed(3).padStart(20)}`,
  );
}
// The targets compare like with like: PyTorch given the same allocator settings as our addon.
console.log(`worst train ratio ours/pytorch: ${worstTrain.toFixed(3)}`);
console.log(`worst ratio ours/pytorch: ${worst.toFixed(3)}`);
