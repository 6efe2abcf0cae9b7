// The split of a final model trained on every development patient: no test patients (the cross-validation is the
// test), a validation share stratified by institution for the best epoch and the training log.
//   node --import tsx scripts/final-split.ts --data DATA/kaggle_3m --out runs/final/split.json [--val 0.15] [--seed 0]
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { scanDataset } from '../src/data/dataset-index.ts';
import { splitDataset } from '../src/data/dataset-split.ts';
import { loadSlices } from '../src/data/slice-cache.ts';
import { writeSplitManifest } from '../src/data/split-manifest.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    out: { type: 'string' },
    val: { type: 'string', default: '0.15' },
    seed: { type: 'string', default: '0' },
  },
});
if (!values.data || !values.out) throw new Error('--data and --out are required');
const val = Number(values.val);
if (!(val > 0 && val < 1)) throw new Error(`--val ${values.val}: a fraction between 0 and 1`);
const index = scanDataset(values.data);
const cache = await loadSlices(index, { width: 256, height: 256 });
const manifest = splitDataset(index, cache, {
  mode: 'patient',
  fractions: { train: 1 - val, val, test: 0 },
  seed: Number(values.seed),
});
mkdirSync(dirname(values.out), { recursive: true });
writeSplitManifest(values.out, manifest);
if (manifest.kind === 'patient-split')
  console.log(
    `${values.out}: ${manifest.splits.train.patients.length} train / ${manifest.splits.val.patients.length} validation / ${manifest.splits.test.patients.length} test patients`,
  );
