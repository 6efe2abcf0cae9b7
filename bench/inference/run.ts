// bench/inference: the shipped models (models/classifier, models/segmenter) through our engine and through
// onnxruntime-node on their ONNX export, with the same threads (ORT: intra-op = threads, inter-op 1). Each side
// runs in fresh processes, taking turns round by round (the order swapped each round), so that neither carries
// the other's threads or heap and a load change hits both; times are medians over every round. Prints a table
// (per batch and per slice) and ours/onnxruntime per case, in wall-clock time and in process CPU time (user +
// system: what a busy machine distorts least); the last line is the worst wall-clock ratio. The line before it
// is the same for `--backend auto`, which runs each case on the faster engine (as predict does with it): the
// faster of the two per case over onnxruntime, at most 1 by construction, unless a calibration chose wrongly.
//
//   npm run bench:inference -- [--threads 2] [--rounds 3] [--iterations 5] [--warmup 2] [--models classifier,segmenter]
//                              [--plain]   (also time our engine without optimizeForInference, as a third side)
//                              [--no-onednn]   (also time optimizeForInference without its oneDNN step)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { integer } from '../../src/cli/options.ts';
import { writeFileAtomic } from '../../src/engine/index.ts';
import { exportModelToOnnx } from '../../src/export/index.ts';
import { loadModel } from '../../src/pipeline/load-model.ts';
import { BATCHES, MODELS, type ModelName, type WorkerResult } from './cases.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    iterations: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    models: { type: 'string', default: MODELS.join(',') },
    plain: { type: 'boolean', default: false },
    'no-onednn': { type: 'boolean', default: false },
  },
});
const root = join(import.meta.dirname, '../..');
const models = values.models.split(',') as ModelName[];
const rounds = integer('--rounds', { min: 1 })(values.rounds);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// Export once, outside the timed processes.
const work = join(root, '.tmp', 'bench-inference');
mkdirSync(work, { recursive: true });
for (const name of models) {
  const base = join(root, 'models', name);
  if (!existsSync(`${base}.json`))
    throw new Error(`${base}.json not found: bench:inference needs the shipped models`);
  writeFileAtomic(join(work, `${name}.onnx`), exportModelToOnnx(loadModel(base)));
}

type Side = 'ours' | 'onnxruntime' | 'plain' | 'no-onednn';
const SIDES: Side[] = ['ours', 'onnxruntime'];
if (values.plain) SIDES.push('plain');
if (values['no-onednn']) SIDES.push('no-onednn');

function runWorker(side: Side, name: ModelName): WorkerResult {
  const args = [
    '--import',
    'tsx',
    join(import.meta.dirname, 'worker.ts'),
    side === 'onnxruntime' ? side : 'ours',
    join(root, 'models', name),
    join(work, `${name}.onnx`),
    values.threads,
    values.iterations,
    values.warmup,
    side === 'ours' || side === 'onnxruntime' ? 'optimized' : side,
  ];
  const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult;
}

const samples = new Map<string, number[]>(); // `${model}/${batch}/${side}` → wall ms
const cpuSamples = new Map<string, number[]>(); // the same runs' process CPU ms
for (let r = 0; r < rounds; r++) {
  for (const name of models) {
    // Take turns: the order rotates (and, with two sides, alternates) from round to round.
    const sides = SIDES.map((_, i) => SIDES[(i + r) % SIDES.length]!);
    for (const side of sides) {
      const result = runWorker(side, name);
      for (const [batch, times] of Object.entries(result.times)) {
        const key = `${name}/${batch}/${side}`;
        samples.set(key, [...(samples.get(key) ?? []), ...times]);
        cpuSamples.set(key, [...(cpuSamples.get(key) ?? []), ...result.cpu[batch]!]);
      }
    }
  }
  console.error(`round ${r + 1}/${rounds} done`);
}

const fmt = (ms: number, width: number) => ms.toFixed(1).padStart(width);
console.log(
  `threads ${values.threads}; ${rounds} rounds × ${values.iterations} iterations (after ${values.warmup} warm-up) per side; median ms`,
);
console.log(
  `case                  ours/batch  ours/slice  ort/batch  ort/slice${values.plain ? '  plain/batch' : ''}  ours/onnxruntime  ours cpu  ort cpu${values.plain ? '  plain cpu' : ''}  cpu ours/ort`,
);
let worst = 0;
let worstAuto = 0;
let worstCpu = 0;
for (const name of models) {
  for (const batch of BATCHES) {
    const ours = median(samples.get(`${name}/${batch}/ours`)!);
    const ort = median(samples.get(`${name}/${batch}/onnxruntime`)!);
    const plain = values.plain ? `  ${fmt(median(samples.get(`${name}/${batch}/plain`)!), 11)}` : '';
    const ratio = ours / ort;
    worst = Math.max(worst, ratio);
    worstAuto = Math.max(worstAuto, Math.min(ours, ort) / ort);
    const oursCpu = median(cpuSamples.get(`${name}/${batch}/ours`)!);
    const ortCpu = median(cpuSamples.get(`${name}/${batch}/onnxruntime`)!);
    const noOnednn = values['no-onednn']
      ? `  no-onednn ${fmt(median(samples.get(`${name}/${batch}/no-onednn`)!), 9)} (cpu ${fmt(median(cpuSamples.get(`${name}/${batch}/no-onednn`)!), 7)})`
      : '';
    const plainCpu = values.plain ? `  ${fmt(median(cpuSamples.get(`${name}/${batch}/plain`)!), 9)}` : '';
    worstCpu = Math.max(worstCpu, oursCpu / ortCpu);
    console.log(
      `${`${name} batch ${batch}`.padEnd(20)}  ${fmt(ours, 10)}  ${fmt(ours / batch, 10)}  ${fmt(ort, 9)}  ${fmt(ort / batch, 9)}${plain}  ${ratio.toFixed(2).padStart(16)}  ${fmt(oursCpu, 8)}  ${fmt(ortCpu, 7)}${plainCpu}  ${(oursCpu / ortCpu).toFixed(2).padStart(12)}${noOnednn}`,
    );
  }
}
console.log(`worst CPU-time ratio ours/onnxruntime: ${worstCpu.toFixed(2)}`);
console.log(`worst ratio auto (faster engine per case)/onnxruntime: ${worstAuto.toFixed(2)}`);
console.log(`worst ratio ours/onnxruntime: ${worst.toFixed(2)}`);
