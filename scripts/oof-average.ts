// An ensemble of two segmenters measured without training anything: a new CV folder whose segmenter OOF maps are
// the voxel-wise mean of two CV runs' maps (same split, same held-back patients), for `cv report` to score like
// any other run. Folds not named are linked from --a as they are; classifiers always come from --a.
//
//   node --import tsx scripts/oof-average.ts --a runs/cv --b runs/cv-ms --folds 0,3 --out runs/cv-ens
//   npx tumorscope cv report --data DATA/kaggle_3m --out runs/cv-ens
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { readSplitManifest } from '../src/data/split-manifest.ts';
import { writeFileAtomic, writeJsonAtomic } from '../src/engine/index.ts';
import { readSegmenterOof, readSegmenterProbs } from '../src/pipeline/out-of-fold.ts';
import { cvSplitPath, foldDir } from '../src/train/cross-validation.ts';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    folds: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!values.a || !values.b || !values.folds || !values.out)
  throw new Error('usage: oof-average.ts --a CV --b CV --folds 0,3 --out NEW_CV');
const a = resolve(values.a);
const b = resolve(values.b);
const out = resolve(values.out);
if (existsSync(out)) throw new Error(`${out}: exists; averaging writes a new CV folder`);
const averaged = values.folds.split(',').map(Number);
const manifest = readSplitManifest(cvSplitPath(a));
if (manifest.kind !== 'k-fold') throw new Error(`${cvSplitPath(a)}: not a k-fold split`);
const k = manifest.k;
mkdirSync(out, { recursive: true });
copyFileSync(cvSplitPath(a), cvSplitPath(out));
const link = (target: string, path: string) => symlinkSync(relative(join(path, '..'), target), path);

for (let fold = 0; fold < k; fold++) {
  const dir = foldDir(out, fold);
  if (!averaged.includes(fold)) {
    link(foldDir(a, fold), dir);
    continue;
  }
  const [ia, ib] = [readSegmenterOof(a, fold), readSegmenterOof(b, fold)];
  if (ia.patients.map((p) => p.id).join() !== ib.patients.map((p) => p.id).join())
    throw new Error(`fold ${fold}: the two runs held back different patients`);
  mkdirSync(join(dir, 'oof', 'segmenter'), { recursive: true });
  link(join(foldDir(a, fold), 'classifier'), join(dir, 'classifier'));
  link(join(foldDir(a, fold), 'oof', 'classifier.json'), join(dir, 'oof', 'classifier.json'));
  for (const patient of ia.patients) {
    const [pa, pb] = [readSegmenterProbs(a, ia, patient, 'none'), readSegmenterProbs(b, ib, patient, 'none')];
    const mean = new Uint8Array(pa.length);
    for (let i = 0; i < pa.length; i++) mean[i] = (pa[i]! + pb[i]! + 1) >> 1;
    writeFileAtomic(join(dir, 'oof', 'segmenter', `${patient.id}.none.u8.gz`), gzipSync(mean));
  }
  writeJsonAtomic(join(dir, 'oof', 'segmenter.json'), {
    ...ia,
    model: `mean of ${relative(process.cwd(), a)} and ${relative(process.cwd(), b)}, fold ${fold}`,
    tta: ['none'],
  });
  console.log(`fold ${fold}: ${ia.patients.length} patients averaged`);
}
