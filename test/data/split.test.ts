// Patient-level splits and k-fold CV: disjoint, complete, stratified by institution, repeatable for a seed; the
// slice-level split warns about its leak; manifests round-trip and bad ones are refused.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scanDataset } from '../../src/data/dataset-index.ts';
import { sliceIndicesOf, splitDataset } from '../../src/data/dataset-split.ts';
import { ManifestError } from '../../src/data/errors.ts';
import { mulberry32, shuffled } from '../../src/data/random.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import {
  kFoldPatients,
  type PatientSummary,
  REFERENCE_SLICE_FRACTIONS,
  sliceLevelSplit,
  splitPatients,
  splitSizes,
  summarisePatients,
} from '../../src/data/split.ts';
import {
  kFoldManifestOf,
  patientSplitManifestOf,
  patientsOf,
  readSplitManifest,
  sliceLevelManifestOf,
  writeSplitManifest,
} from '../../src/data/split-manifest.ts';
import { tempDir, writeKaggleFolder } from './fixtures.ts';

/** 80 patients with the development set's institution mix. */
const MIX: [string, number][] = [
  ['CS', 12],
  ['DU', 30],
  ['EZ', 1],
  ['FG', 14],
  ['HT', 23],
];
const PATIENTS: PatientSummary[] = MIX.flatMap(([inst, n]) =>
  Array.from({ length: n }, (_, i) => ({
    id: `TCGA_${inst}_${String(1000 + i)}_20000101`,
    institution: inst,
    slices: 20 + ((i * 7) % 60),
    positives: 5 + (i % 9),
  })),
);
const instOf = (id: string) => id.split('_')[1]!;

test('mulberry32 repeats for a seed, differs between seeds, and is uniform', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = Array.from({ length: 10000 }, () => a.next());
  assert.deepEqual(
    xs.slice(0, 5),
    Array.from({ length: 5 }, () => b.next()),
  );
  assert.notEqual(mulberry32(43).next(), xs[0]);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  const perm = shuffled([1, 2, 3, 4, 5, 6], mulberry32(1));
  assert.deepEqual([...perm].sort(), [1, 2, 3, 4, 5, 6]);
});

test('train/val/test by patient: disjoint, complete, sized by the fractions, repeatable for a seed', () => {
  const f = { train: 0.7, val: 0.15, test: 0.15 };
  const split = splitPatients(PATIENTS, f, 7);
  assert.deepEqual([split.train.length, split.val.length, split.test.length], [56, 12, 12]);
  const all = [...split.train, ...split.val, ...split.test];
  assert.equal(new Set(all).size, 80);
  assert.deepEqual(split, splitPatients(PATIENTS, f, 7));
  assert.deepEqual(split, splitPatients([...PATIENTS].reverse(), f, 7), 'input order does not matter');
  assert.notDeepEqual(split.test, splitPatients(PATIENTS, f, 8).test);
  assert.throws(() => splitPatients(PATIENTS, { train: 0.7, val: 0.2, test: 0.2 }, 1), RangeError);
});

test('patient splits are stratified by institution (every split within one patient of its share)', () => {
  for (let seed = 0; seed < 20; seed++) {
    const split = splitPatients(PATIENTS, { train: 0.6, val: 0.2, test: 0.2 }, seed);
    for (const [inst, n] of MIX) {
      for (const [name, share] of [
        ['train', 0.6],
        ['val', 0.2],
        ['test', 0.2],
      ] as const) {
        const got = split[name].filter((id) => instOf(id) === inst).length;
        assert.ok(Math.abs(got - n * share) <= 1, `seed ${seed} ${name} ${inst}: ${got} of ${n}`);
      }
    }
  }
});

test('k-fold: every patient tested exactly once, folds balanced in size and institution', () => {
  const folds = kFoldPatients(PATIENTS, 5, 3, 0.1);
  assert.equal(folds.length, 5);
  const tested = folds.flatMap((f) => f.test);
  assert.equal(tested.length, 80);
  assert.equal(new Set(tested).size, 80);
  for (const fold of folds) {
    assert.equal(fold.test.length, 16);
    assert.equal(fold.val.length, 6);
    assert.equal(new Set([...fold.train, ...fold.val, ...fold.test]).size, 80);
    for (const [inst, n] of MIX) {
      const got = fold.test.filter((id) => instOf(id) === inst).length;
      assert.ok(Math.abs(got - n / 5) <= 1, `${inst}: ${got} of ${n}`);
    }
  }
  assert.deepEqual(folds, kFoldPatients(PATIENTS, 5, 3, 0.1));
  assert.throws(() => kFoldPatients(PATIENTS, 1, 3), RangeError);
});

test('the slice-level split reproduces 2210/736/983 of 3,929 and warns that it leaks patients', () => {
  assert.deepEqual(splitSizes(3929, REFERENCE_SLICE_FRACTIONS), { train: 2210, val: 736, test: 983 });
  const slicePatients = PATIENTS.flatMap((p) => new Array<string>(p.slices).fill(p.id));
  const warnings: string[] = [];
  const split = sliceLevelSplit(slicePatients, REFERENCE_SLICE_FRACTIONS, 0, (m) => warnings.push(m));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /leaks patients/);
  assert.ok(split.leakedPatients.length > 70, `${split.leakedPatients.length} leaked`);
  const n = slicePatients.length;
  assert.equal(split.indices.train.length + split.indices.val.length + split.indices.test.length, n);
});

test('manifests round-trip through JSON with counts, seed and dataset path', (t) => {
  const dir = tempDir(t);
  const f = { train: 0.7, val: 0.15, test: 0.15 };
  const manifest = patientSplitManifestOf('/data/kaggle_3m', 7, f, splitPatients(PATIENTS, f, 7), PATIENTS);
  const total = manifest.splits.train.slices + manifest.splits.val.slices + manifest.splits.test.slices;
  assert.equal(
    total,
    PATIENTS.reduce((s, p) => s + p.slices, 0),
  );
  const path = join(dir, 'split.json');
  writeSplitManifest(path, manifest);
  const back = readSplitManifest(path);
  assert.deepEqual(back, manifest);
  assert.equal(back.seed, 7);
  assert.deepEqual(patientsOf(back, 'test'), manifest.splits.test.patients);

  const kfold = kFoldManifestOf('/d', 1, 0, kFoldPatients(PATIENTS, 4, 1), PATIENTS);
  writeSplitManifest(path, kfold);
  assert.deepEqual(patientsOf(readSplitManifest(path), 'test', 3), kfold.folds[3]!.test.patients);

  const slicePatients = PATIENTS.slice(0, 3).flatMap((p) => new Array<string>(p.slices).fill(p.id));
  const sl = sliceLevelSplit(slicePatients, REFERENCE_SLICE_FRACTIONS, 0, () => {});
  const slices = slicePatients.map((id, i) => ({
    patientId: id,
    sliceNumber: i + 1,
    positive: i % 3 === 0,
    institution: 'CS',
  }));
  const sm = sliceLevelManifestOf('/d', 0, REFERENCE_SLICE_FRACTIONS, sl, slices);
  writeSplitManifest(path, sm);
  const smBack = readSplitManifest(path);
  assert.equal(smBack.kind, 'slice-level');
  assert.equal(smBack.kind === 'slice-level' && smBack.slices.test.length, sl.indices.test.length);
});

test('bad manifests are ManifestErrors naming the file and the problem', (t) => {
  const dir = tempDir(t);
  const f = { train: 0.7, val: 0.15, test: 0.15 };
  const good = patientSplitManifestOf('/d', 1, f, splitPatients(PATIENTS, f, 1), PATIENTS);
  const path = join(dir, 'bad.json');
  writeFileSync(path, '{ not json');
  assert.throws(
    () => readSplitManifest(path),
    (e: unknown) => e instanceof ManifestError && /not JSON/.test(e.message),
  );
  writeFileSync(path, JSON.stringify({ ...good, seed: 'seven' }));
  assert.throws(
    () => readSplitManifest(path),
    (e: unknown) => e instanceof ManifestError && /seed/.test(e.message) && e.message.includes(path),
  );
  const leaky = structuredClone(good);
  leaky.splits.test.patients[0] = leaky.splits.train.patients[0]!;
  writeFileSync(path, JSON.stringify(leaky));
  assert.throws(
    () => readSplitManifest(path),
    (e: unknown) => e instanceof ManifestError && /in both train and test/.test(e.message),
  );
  assert.throws(() => readSplitManifest(join(dir, 'missing.json')), ManifestError);
});

test('per-patient slice and tumour counts from a slice cache', () => {
  const summaries = summarisePatients(
    {
      patients: ['TCGA_CS_1_x', 'TCGA_DU_2_y'],
      patientIndex: Uint32Array.from([0, 0, 0, 1, 1]),
      tumourPixels: Uint32Array.from([0, 5, 3, 0, 0]),
      count: 5,
    },
    instOf,
  );
  assert.deepEqual(summaries, [
    { id: 'TCGA_CS_1_x', institution: 'CS', slices: 3, positives: 2 },
    { id: 'TCGA_DU_2_y', institution: 'DU', slices: 2, positives: 0 },
  ]);
});

test('a decoded dataset splits into a manifest whose splits map back to the right cache slices', async (t) => {
  const root = writeKaggleFolder(
    tempDir(t),
    ['CS', 'CS', 'DU', 'DU', 'HT', 'HT'].map((inst, i) => ({
      id: `TCGA_${inst}_000${i}_20000101`,
      slices: 2 + i,
      tumour: [1],
      size: 8,
    })),
  );
  const index = scanDataset(root);
  const cache = await loadSlices(index, { width: 8 });
  const manifest = splitDataset(index, cache, {
    mode: 'patient',
    fractions: { train: 1 / 3, val: 1 / 3, test: 1 / 3 },
    seed: 2,
  });
  assert.equal(manifest.dataset, root);
  for (const name of ['train', 'val', 'test'] as const) {
    const entry = manifest.kind === 'patient-split' ? manifest.splits[name] : undefined;
    assert.equal(entry?.patients.length, 2);
    assert.equal(entry?.positives, 2);
    assert.deepEqual(Object.values(entry!.institutions).sort(), [1, 1], `${name} mixes institutions`);
    const indices = sliceIndicesOf(cache, manifest, name);
    assert.equal(indices.length, entry!.slices);
    assert.ok(indices.every((i) => entry!.patients.includes(cache.slices[i]!.patientId)));
  }
  const warnings: string[] = [];
  const leaky = splitDataset(index, cache, {
    mode: 'slice-level-leaky',
    seed: 1,
    warn: (m) => warnings.push(m),
  });
  assert.equal(warnings.length, 1);
  const all = (['train', 'val', 'test'] as const).flatMap((s) => sliceIndicesOf(cache, leaky, s));
  assert.deepEqual(
    all.sort((a, b) => a - b),
    Array.from({ length: cache.count }, (_, i) => i),
  );
  const folds = splitDataset(index, cache, { mode: 'k-fold', k: 3, seed: 1 });
  assert.equal(sliceIndicesOf(cache, folds, 'test', 2).length > 0, true);
  assert.equal(manifest.kind, 'patient-split');
  const other = structuredClone(manifest);
  if (other.kind === 'patient-split') other.splits.test.patients = ['TCGA_XX_9'];
  assert.throws(() => sliceIndicesOf(cache, other, 'test'), ManifestError);
});
