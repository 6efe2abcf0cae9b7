// bench/engine: the same networks, batch and threads through tumorscope's engine and through PyTorch
// (/usr/bin/python3 with Debian's python3-torch: the same libtorch), alternating in one run, so that the ratio
// measures only our binding. Prints each time and ours/PyTorch; the last line is the worst ratio against PyTorch
// run with the same allocator settings.
//
//   npm run bench:engine -- [--threads 2] [--rounds 2] [--iterations 3] [--size 256] [--batch 8] [--cases a,b]
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Adam,
  buildInfo,
  F,
  type Module,
  manualSeed,
  noGrad,
  rand,
  randint,
  setNumThreads,
  type Tensor,
  tidy,
} from '../../src/engine/index.ts';
import { DENSENET121, DenseNet } from '../../src/models/densenet.ts';
import { UNet } from '../../src/models/unet.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    iterations: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    size: { type: 'string', default: '256' },
    batch: { type: 'string', default: '8' },
    cases: { type: 'string', default: 'unet-train,densenet-train,unet-infer,densenet-infer' },
  },
});
const threads = Number(values.threads);
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);
const warmup = Number(values.warmup);
const size = Number(values.size);
const batch = Number(values.batch);
const cases = values.cases.split(',');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function ours(name: string): number[] {
  setNumThreads(threads);
  manualSeed(0);
  const [model, mode] = name.split('-') as ['unet' | 'densenet', 'train' | 'infer'];
  const net: Module = model === 'unet' ? new UNet() : new DenseNet(DENSENET121);
  const x = rand([batch, 3, size, size]).keep();
  const target: Tensor = (
    model === 'unet' ? rand([batch, 1, size, size]).gt(0.8).float() : randint(0, 2, [batch])
  ).keep();
  const loss = (out: Tensor) =>
    model === 'unet' ? F.bceWithLogits(out, target) : F.crossEntropy(out, target);
  const opt = new Adam(net.parameters(), { lr: 1e-4 });
  const step =
    mode === 'train'
      ? () =>
          tidy(() => {
            opt.zeroGrad();
            loss(net.forward(x)).backward();
            opt.step();
          })
      : () => noGrad(() => tidy(() => void net.forward(x)));
  net.train(mode === 'train');
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
  }
  net.dispose();
  opt.dispose();
  x.dispose();
  target.dispose();
  return times;
}

// PyTorch twice: as users run it, and with the glibc settings our addon applies at load (native/src/addon.cc),
// so that the second ratio measures the binding alone.
const SAME_ALLOCATOR = { MALLOC_MMAP_THRESHOLD_: '2147483647', MALLOC_TRIM_THRESHOLD_: '2147483647' };

function pytorch(name: string, sameAllocator: boolean): number[] {
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
  `bench/engine: ${cases.join(', ')}; ${size}×${size}, batch ${batch}, ${threads} threads, ${rounds} rounds × ${iterations} timed iterations (+${warmup} warm-up), rotating ours / PyTorch / PyTorch with our allocator settings; tumorscope allocator tuned: ${buildInfo().allocatorTuned}`,
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
        `round ${r}  ${c.padEnd(15)} ${label[side].padEnd(13)} ${median(t).toFixed(3)} s/step  (${t.map((v) => v.toFixed(3)).join(' ')})`,
      );
    }
  }
}
let worst = 0;
console.log(
  '\ncase             tumorscope s  pytorch s  pytorch+alloc s  ours/pytorch  ours/(pytorch+alloc)',
);
for (const [c, r] of results) {
  const [o, t, ta] = [median(r.ours), median(r.torch), median(r.torchSameAlloc)];
  worst = Math.max(worst, o / ta);
  console.log(
    `${c.padEnd(16)} ${o.toFixed(3).padStart(12)} ${t.toFixed(3).padStart(10)} ${ta.toFixed(3).padStart(16)}  ${(o / t).toFixed(3).padStart(12)}  ${(o / ta).toFixed(3).padStart(20)}`,
  );
}
// The target compares like with like: PyTorch given the same allocator settings as our addon.
console.log(`worst ratio ours/pytorch: ${worst.toFixed(3)}`);
