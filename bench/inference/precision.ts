// bench/inference/precision.ts: the shipped segmenter on whole patients in float32 and under bf16 autocast, in
// one process, one after the other per patient: the time of each, and how far bf16 moves what the pipeline
// decides on (the probability maps, the mask at the shipped pixel threshold, each slice's largest probability,
// which the fusion gate reads). Both run the plain network (at::conv2d, batch norms not folded; autocast does
// not reach prediction's oneDNN-direct path), so this prices the arithmetic, not predict's engine.
//
//   node --import tsx bench/inference/precision.ts --data DATA/kaggle_3m PATIENT_ID... [--threads 1]
import { parseArgs } from 'node:util';
import { integer } from '../../src/cli/options.ts';
import { scanDataset } from '../../src/data/dataset-index.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import { autocast, setNumThreads } from '../../src/engine/index.ts';
import { segmenterProbabilities } from '../../src/inference/network-outputs.ts';
import { buildModel, readModelSpec, type SegmenterSpec } from '../../src/pipeline/load-model.ts';
import { parsePostprocessConfig } from '../../src/postprocess/index.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { data: { type: 'string' }, threads: { type: 'string', default: '1' } },
});
if (!values.data || positionals.length === 0) throw new Error('usage: precision.ts --data DIR PATIENT_ID...');
setNumThreads(integer('--threads', { min: 1 })(values.threads));
const spec = readModelSpec('models/segmenter', 'segmenter') as SegmenterSpec;
const { model } = buildModel(spec);
model.eval();
model.toChannelsLast();
const { preprocess } = spec.config;
const postprocess = parsePostprocessConfig(spec.config.postprocess);
const scanned = scanDataset(values.data, { skipBadFiles: false, warn: () => {} });
const index = { ...scanned, patients: scanned.patients.filter((p) => positionals.includes(p.id)) };
const missing = positionals.filter((id) => !index.patients.some((p) => p.id === id));
if (missing.length > 0) throw new Error(`${values.data}: no patient ${missing.join(', ')}`);
const { width, height } = preprocess;
const cache = await loadSlices(index, { width, height, skipBadFiles: false, warn: () => {} });
const plane = width * height;
// Warm-up: each precision's first call builds its kernels.
const first = cache.slices.flatMap((s, i) => (s.patientId === positionals[0] ? [i] : [])).slice(0, 4);
for (const precision of ['fp32', 'bf16']) {
  const once = () =>
    segmenterProbabilities(model, { cache, indices: first, preprocess, batchSize: 4, tta: 'none' });
  precision === 'bf16' ? autocast(once) : once();
}
let fp32Seconds = 0;
let bf16Seconds = 0;

for (const id of positionals) {
  const indices = cache.slices.flatMap((s, i) => (s.patientId === id ? [i] : []));
  const run = () => segmenterProbabilities(model, { cache, indices, preprocess, batchSize: 4, tta: 'none' });
  const t0 = performance.now();
  const full = run();
  const t1 = performance.now();
  const mixed = autocast(run);
  const t2 = performance.now();
  fp32Seconds += (t1 - t0) / 1000;
  bf16Seconds += (t2 - t1) / 1000;
  let maxDiff = 0;
  let both = 0;
  let inFull = 0;
  let inMixed = 0;
  for (let i = 0; i < full.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(full[i]! - mixed[i]!));
    const a = full[i]! >= postprocess.threshold;
    const b = mixed[i]! >= postprocess.threshold;
    inFull += a ? 1 : 0;
    inMixed += b ? 1 : 0;
    both += a && b ? 1 : 0;
  }
  let sliceMaxDiff = 0;
  for (let k = 0; k < indices.length; k++) {
    let a = 0;
    let b = 0;
    for (let j = k * plane; j < (k + 1) * plane; j++) {
      a = Math.max(a, full[j]!);
      b = Math.max(b, mixed[j]!);
    }
    sliceMaxDiff = Math.max(sliceMaxDiff, Math.abs(a - b));
  }
  const agreement = inFull + inMixed === 0 ? 1 : (2 * both) / (inFull + inMixed);
  console.log(
    `${id}: ${indices.length} slices, fp32 ${((t1 - t0) / 1000).toFixed(2)} s, bf16 ${((t2 - t1) / 1000).toFixed(2)} s; ` +
      `max |Δp| ${maxDiff.toFixed(4)}; mask at ${postprocess.threshold}: ${inFull} vs ${inMixed} voxels, Dice between them ${agreement.toFixed(4)}; ` +
      `max |Δ largest p of a slice| ${sliceMaxDiff.toFixed(4)}`,
  );
}
console.log(`bf16 / fp32 time over all patients: ${(bf16Seconds / fp32Seconds).toFixed(2)}`);
