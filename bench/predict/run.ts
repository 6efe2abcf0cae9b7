// bench/predict: how long `tumorscope predict` takes on one patient with the shipped models, both stages, and
// how much memory it needs. Times the files' decoding plus predictSlices (the first call after loading, so
// libtorch's one-off set-up counts, as it does for a user), with and without loading the models; then peak RSS.
// The last line is the headline figure:
//   patient <n> slices: <seconds> s, peak RSS <MB> MB          (seconds: load excluded)
//
// Also prints each network's time: the classifier's per slice, and the segmenter's per segmented slice with what
// its flip TTA costs (the three extra passes of four), so that TTA's price is seen next to what it earns.
//
//   npm run bench:predict -- [<patient folder>] [--threads 2] [--batch 4] [--backend torch|onnx|auto|torch-bf16] [--overlap]
// (--overlap: segment called slices while the classifier scores the next ones; with onnx only does it overlap)
// (auto: the first run on a machine measures both engines while loading, a few seconds, then reads the cache)
// Without a folder it unpacks DEFAULT_PATIENT (36 slices, 7 with tumour) from ../shared/lgg into the temp folder.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { integer } from '../../src/cli/options.ts';
import { scanDataset } from '../../src/data/dataset-index.ts';
import { readImage } from '../../src/data/read-image.ts';
import { getNumThreads, setNumThreads } from '../../src/engine/index.ts';
import { BACKEND_SETTINGS, type BackendSetting } from '../../src/export/backend-choice.ts';
import { inferenceBackends } from '../../src/export/backend-runners.ts';
import { predictSlices, type SliceInput } from '../../src/inference/predict-slices.ts';
import type { TwoStageModels } from '../../src/inference/two-stage.ts';
import { INFERENCE_BATCH, loadModels } from '../../src/pipeline/default-models.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: String(INFERENCE_BATCH) },
    backend: { type: 'string', default: 'torch' },
    overlap: { type: 'boolean', default: false },
  },
});

/** A 36-slice patient, the size the prediction budget is stated for (7 tumour slices; a training-split patient). */
const DEFAULT_PATIENT = 'TCGA_DU_5853_19950823';

/** DEFAULT_PATIENT's folder, unpacked once. */
function defaultPatient(): string {
  const dest = join(tmpdir(), 'tumorscope-bench-predict');
  const unpack = join(repoRoot, '..', 'shared', 'lgg', 'unpack');
  if (!existsSync(unpack)) throw new Error(`no patient folder given and ${unpack} not found`);
  const folder = join(dest, 'kaggle_3m', DEFAULT_PATIENT);
  if (!existsSync(folder)) {
    execFileSync('bash', [unpack, dest, DEFAULT_PATIENT], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return folder;
}

const folder = positionals[0] ?? defaultPatient();
const threads = integer('--threads', { min: 1 })(values.threads);
const batch = integer('--batch', { min: 1 })(values.batch);
const backend = values.backend as BackendSetting;
if (!BACKEND_SETTINGS.includes(backend))
  throw new Error(`--backend must be one of ${BACKEND_SETTINGS.join(', ')}`);
setNumThreads(threads);
const seconds = (from: number) => (performance.now() - from) / 1000;

const index = scanDataset(folder, { slicesOnly: true });
const slices = index.patients.flatMap((p) => p.slices);

const loadStarted = performance.now();
const models = loadModels();
const backends = await inferenceBackends(models, { backend, batch, threads });
const loadSeconds = seconds(loadStarted);

/** Each network's calls, slices and milliseconds. */
const spent = {
  classifier: { calls: 0, slices: 0, ms: 0 },
  segmenter: { calls: 0, slices: 0, ms: 0 },
};
function timedRunners(r: TwoStageModels): TwoStageModels {
  const time =
    (stage: keyof typeof spent, run: (x: Float32Array, n: number) => Promise<Float32Array>) =>
    async (x: Float32Array, n: number) => {
      const t0 = performance.now();
      const out = await run(x, n);
      spent[stage].ms += performance.now() - t0;
      spent[stage].calls++;
      spent[stage].slices += n;
      return out;
    };
  return {
    classifier: { ...r.classifier, run: time('classifier', r.classifier.run) },
    segmenter: { ...r.segmenter, run: time('segmenter', r.segmenter.run) },
  };
}

const started = performance.now();
const inputs: SliceInput[] = await Promise.all(
  slices.map(async (s) => ({
    name: s.imagePath,
    patient: s.patientId,
    sliceNumber: s.sliceNumber,
    image: await readImage(s.imagePath),
  })),
);
const decodeSeconds = seconds(started);
const prediction = await predictSlices(timedRunners(backends.runners), inputs, {
  batch,
  overlapStages: values.overlap,
});
const predictSeconds = seconds(started);

const peakMb = process.resourceUsage().maxRSS / 1024;
const positives = prediction.slices.filter((s) => s.tumour).length;
console.log(
  `${folder}: ${slices.length} slices, ${positives} positive; ${getNumThreads()} threads, batch ${batch}` +
    `${values.overlap ? ', stages overlapped' : ''}`,
);
console.log(
  `load models ${loadSeconds.toFixed(2)} s; decode ${decodeSeconds.toFixed(2)} s; ` +
    `decode + both stages ${predictSeconds.toFixed(2)} s (load excluded), ` +
    `${(loadSeconds + predictSeconds).toFixed(2)} s (load included)`,
);
for (const line of backends.description) console.log(line);
const tta = models.segmenter.postprocess.tta;
const passes = tta === 'flips' ? 4 : 1;
const segmented = spent.segmenter.slices / passes;
const perSegmented = segmented > 0 ? spent.segmenter.ms / segmented : 0;
console.log(
  `classifier ${(spent.classifier.ms / 1000).toFixed(2)} s for ${spent.classifier.slices} slices ` +
    `(${(spent.classifier.ms / Math.max(1, spent.classifier.slices)).toFixed(0)} ms/slice); ` +
    `segmenter ${(spent.segmenter.ms / 1000).toFixed(2)} s for ${segmented} slices, TTA ${tta} ` +
    `(${passes} passes: ${perSegmented.toFixed(0)} ms/slice, of which TTA's extra passes ` +
    `${((perSegmented * (passes - 1)) / passes).toFixed(0)} ms/slice)`,
);
console.log(
  `patient ${slices.length} slices: ${predictSeconds.toFixed(2)} s, peak RSS ${peakMb.toFixed(0)} MB`,
);
