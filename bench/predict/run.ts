// bench/predict: how long `tumorscope predict` takes on one patient with the shipped models, both stages, and
// how much memory it needs. Times the files' decoding plus predictSlices (the first call after loading, so
// libtorch's one-off set-up counts, as it does for a user), with and without loading the models; then peak RSS.
// The last line is the headline figure:
//   patient <n> slices: <seconds> s, peak RSS <MB> MB          (seconds: load excluded)
//
//   npm run bench:predict -- [<patient folder>] [--threads 2] [--batch 4]
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
import { predictSlices, type SliceInput } from '../../src/inference/predict-slices.ts';
import { INFERENCE_BATCH, loadModels } from '../../src/pipeline/default-models.ts';
import { runnersOf } from '../../src/pipeline/load-model.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: String(INFERENCE_BATCH) },
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
setNumThreads(threads);
const seconds = (from: number) => (performance.now() - from) / 1000;

const index = scanDataset(folder, { slicesOnly: true });
const slices = index.patients.flatMap((p) => p.slices);

const loadStarted = performance.now();
const models = loadModels();
const loadSeconds = seconds(loadStarted);

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
const prediction = await predictSlices(runnersOf(models), inputs, { batch });
const predictSeconds = seconds(started);

const peakMb = process.resourceUsage().maxRSS / 1024;
const positives = prediction.slices.filter((s) => s.tumour).length;
console.log(
  `${folder}: ${slices.length} slices, ${positives} positive; ${getNumThreads()} threads, batch ${batch}`,
);
console.log(
  `load models ${loadSeconds.toFixed(2)} s; decode ${decodeSeconds.toFixed(2)} s; ` +
    `decode + both stages ${predictSeconds.toFixed(2)} s (load excluded), ` +
    `${(loadSeconds + predictSeconds).toFixed(2)} s (load included)`,
);
console.log(
  `patient ${slices.length} slices: ${predictSeconds.toFixed(2)} s, peak RSS ${peakMb.toFixed(0)} MB`,
);
