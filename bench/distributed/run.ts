// bench/distributed: data-parallel training on this machine's cores. The same global batch runs as one process
// with 2 libtorch threads and as 2 processes × 1 thread (c10d/Gloo over 127.0.0.1, each process half the batch);
// 1 process × 1 thread on half the batch is the work of one rank alone. Each measurement is a fresh set of
// processes, the configurations taking turns over the rounds; a time is the median of the rounds' medians.
//
//   npm run bench:distributed -- [--rounds 2] [--iterations 5] [--warmup 2]
//                                [--cases densenet@128/16,resunet@256/16]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../../src/cli/launch.ts';
import { median } from '../../src/metrics/stats.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    iterations: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    cases: { type: 'string', default: 'densenet@128/16,resunet@256/16' },
  },
});
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);
const warmup = Number(values.warmup);

interface Config {
  name: string;
  processes: number;
  threads: number;
  /** Share of the global batch each process takes (1 = all of it). */
  batchDivisor: number;
}
const CONFIGS: Config[] = [
  { name: '1 process × 2 threads', processes: 1, threads: 2, batchDivisor: 1 },
  { name: '2 processes × 1 thread', processes: 2, threads: 1, batchDivisor: 1 },
  { name: '1 process × 1 thread, half batch', processes: 1, threads: 1, batchDivisor: 2 },
];

async function measure(
  model: string,
  size: number,
  batch: number,
  c: Config,
): Promise<{ times: number[]; communication: number[] }> {
  const port = await freePort();
  const outputs = await Promise.all(
    Array.from({ length: c.processes }, (_, rank) => {
      const args = {
        model,
        size,
        batch: batch / c.batchDivisor,
        processes: c.processes,
        threads: c.threads,
        rank,
        port,
        iterations,
        warmup,
      };
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'worker.ts'), JSON.stringify(args)],
        { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: String(c.threads) } },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      return new Promise<string>((resolve, reject) =>
        child.once('exit', (code) =>
          code === 0 ? resolve(out) : reject(new Error(`worker exited ${code}`)),
        ),
      );
    }),
  );
  return JSON.parse(outputs[0]!.trim().split('\n').pop()!);
}

const rows: string[] = [];
for (const spec of values.cases.split(',')) {
  const m = /^(densenet|resunet)@(\d+)\/(\d+)$/.exec(spec);
  if (!m) throw new Error(`--cases: '${spec}' is not model@size/batch`);
  const [, model, size, batch] = [m[0], m[1]!, Number(m[2]), Number(m[3])];
  const perConfig = CONFIGS.map(() => ({ medians: [] as number[], communication: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of CONFIGS.entries()) {
      const { times, communication } = await measure(model, size, batch, c);
      perConfig[i]!.medians.push(median(times));
      perConfig[i]!.communication.push(median(communication));
      console.error(`${spec} round ${r + 1} ${c.name}: ${times.map((t) => t.toFixed(3)).join(' ')} s`);
    }
  }
  const [oneByTwo, twoByOne, oneRank] = perConfig.map((p) => median(p.medians)) as [number, number, number];
  const comm = median(perConfig[1]!.communication);
  rows.push(
    `| ${model}@${size} b${batch} | ${oneByTwo.toFixed(3)} | ${twoByOne.toFixed(3)} | ${comm.toFixed(3)} | ` +
      `${oneRank.toFixed(3)} | ${(oneByTwo / twoByOne).toFixed(2)} | ${(oneRank / twoByOne).toFixed(2)} |`,
  );
}
console.log(
  '| case | 1 proc × 2 threads s/step | 2 procs × 1 thread s/step | of which communication s | 1 proc × 1 thread, half batch s/step | speed-up 2×1 vs 1×2 | scaling efficiency |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);
