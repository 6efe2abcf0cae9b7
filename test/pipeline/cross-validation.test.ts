// Cross-validation end to end on the small visible-tumour dataset with tiny networks: a k-fold split whose held
// folds cover every patient once, per-fold training that resumes and then skips finished stages, out-of-fold
// outputs for exactly the held patients (bytes that match the segmenter's own probabilities), and cv-metrics.json
// with the keys docs/RESULTS.md relies on, whose figures agree with a direct computation.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assembleBatch } from '../../src/data/batch.ts';
import { scanDataset } from '../../src/data/dataset-index.ts';
import { RESCALE_256 } from '../../src/data/preprocess.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import { F, loadSafetensors, noGrad } from '../../src/engine/index.ts';
import { dice, maskOverlap } from '../../src/metrics/segmentation.ts';
import { cvMetrics, loadOofPatients } from '../../src/pipeline/cv-report.ts';
import { loadModel } from '../../src/pipeline/load-model.ts';
import {
  readClassifierOof,
  readSegmenterOof,
  readSegmenterProbs,
  writeOof,
} from '../../src/pipeline/out-of-fold.ts';
import { postprocessMask } from '../../src/postprocess/apply.ts';
import { callSlices, sliceMaxima } from '../../src/postprocess/fusion.ts';
import {
  collectCv,
  ensureCvSplit,
  readFinished,
  stageDir,
  trainFold,
} from '../../src/train/cross-validation.ts';
import { readLog } from '../../src/train/run-log.ts';
import { tempDir } from '../data/fixtures.ts';
import { IMAGE_SIZE, PATIENTS, SLICES_PER_PATIENT, writeVisibleTumours } from '../helpers/visible-tumours.ts';

const quiet = () => {};
// A few candidates of each kind keep the test short; the grid's size changes nothing it checks.
const SMALL_GRID = {
  tta: ['none', 'flips'] as ('none' | 'flips')[],
  pixelThresholds: [0.3, 0.5],
  minComponentAreas: [0, 16],
  sliceRadii: [0, 1],
  detectionThresholds: [0, 0.25, 0.5, 0.75],
};
const FOLDS = 2;

const segmenter = {
  architecture: 'resunet' as const,
  width: 0.25,
  epochs: 1,
  batch: 8,
  lr: 3e-3,
  size: IMAGE_SIZE,
  seed: 1,
  patience: 100,
  loss: 'bce-dice' as const,
  sampling: { kind: 'tumour-only' as const },
  augment: null,
};
const classifier = {
  epochs: 1,
  batch: 8,
  lr: 1e-3,
  size: IMAGE_SIZE,
  seed: 1,
  patience: 100,
  sampling: { kind: 'uniform' as const },
  augment: null,
  headDropout: 0,
  network: {
    growthRate: 4,
    blockConfig: [1, 1, 1, 1] as [number, number, number, number],
    numInitFeatures: 8,
    bnSize: 2,
  },
};

describe('cross-validation', () => {
  it('trains every fold, writes OOF outputs for the held patients and summarises them', async (t) => {
    const data = writeVisibleTumours(tempDir(t));
    const cvDir = join(tempDir(t), 'cv');
    const manifest = await ensureCvSplit({
      data,
      cvDir,
      folds: FOLDS,
      seed: 3,
      valFraction: 0.2,
      log: quiet,
    });
    const held = manifest.folds.flatMap((f) => f.test.patients).sort();
    assert.deepEqual(held, [...PATIENTS].sort(), 'every patient is held back by exactly one fold');
    for (const f of manifest.folds) {
      const inner = [...f.train.patients, ...f.val.patients];
      assert.ok(f.val.patients.length > 0);
      assert.ok(!inner.some((p) => f.test.patients.includes(p)), 'a held patient never trains or validates');
    }
    // The same request reads the same split; another is refused rather than mixing two splits in one run.
    assert.deepEqual(
      await ensureCvSplit({ data, cvDir, folds: FOLDS, seed: 3, valFraction: 0.2, log: quiet }),
      manifest,
    );
    await assert.rejects(
      ensureCvSplit({ data, cvDir, folds: 5, seed: 3, valFraction: 0.2, log: quiet }),
      /split differently/,
    );

    const common = { data, cvDir, segmenter, classifier, command: 'test', log: quiet };
    for (let fold = 0; fold < FOLDS; fold++) {
      for (const stage of ['segmenter', 'classifier'] as const) {
        const result = await trainFold({ ...common, fold, stage });
        assert.ok(result, `fold ${fold} ${stage} trained`);
        await writeOof({ data, cvDir, fold, batch: 4, log: quiet }, stage);
      }
    }
    // A finished stage is skipped, not retrained.
    assert.equal(await trainFold({ ...common, fold: 0, stage: 'segmenter' }), null);
    assert.equal(readLog(join(stageDir(cvDir, 0, 'segmenter'), 'log.jsonl')).length, segmenter.epochs);
    assert.equal(readFinished(cvDir, 1, 'classifier')?.['epochsRun'], classifier.epochs);

    for (let fold = 0; fold < FOLDS; fold++) {
      const c = readClassifierOof(cvDir, fold);
      const s = readSegmenterOof(cvDir, fold);
      assert.deepEqual(c.patients.map((p) => p.id).sort(), [...manifest.folds[fold]!.test.patients].sort());
      assert.deepEqual(
        s.patients.map((p) => p.id),
        c.patients.map((p) => p.id),
      );
      for (const p of s.patients) {
        assert.equal(p.slices.length, SLICES_PER_PATIENT);
        const bytes = readSegmenterProbs(cvDir, s, p, 'none');
        assert.equal(bytes.length, SLICES_PER_PATIENT * IMAGE_SIZE * IMAGE_SIZE);
      }
    }

    const patients = await loadOofPatients({ data, cvDir, folds: FOLDS, log: quiet });
    assert.equal(patients.length, PATIENTS.length);
    const metrics = cvMetrics(patients, { grid: SMALL_GRID, log: quiet });
    // The keys the project's documents and the tracker read.
    for (const f of metrics.folds) {
      for (const k of ['accuracy', 'auc', 'recall', 'specificity'] as const) assert.ok(k in f.classification);
      assert.ok(f.endToEnd.meanPatientDice >= 0 && f.endToEnd.meanPatientDice <= 1);
    }
    for (const k of ['accuracy', 'precision', 'recall', 'specificity', 'f1', 'auc', 'threshold'] as const)
      assert.ok(k in metrics.oof.classification, k);
    assert.equal(metrics.oof.endToEnd.perPatient.length, PATIENTS.length);
    assert.ok(metrics.families.some((f) => f.family.startsWith('classifier gate (reference')));

    // The chosen configuration's Dice, recomputed with the voxel pipeline, agrees with the summary.
    const { segmenter: s, fusion, largest3DComponent } = metrics.config;
    const recomputed = patients.map((p) => {
      const px = p.h * p.w;
      const probs = p.probs[s.tta]!;
      const called = callSlices(fusion, {
        classifier: p.classifierP,
        segmenterMax: sliceMaxima(probs, p.d, px, 1 / 255),
      });
      const mask = Uint8Array.from(probs, (v, i) =>
        v >= Math.ceil(s.threshold * 255 - 1e-9) && called[Math.floor(i / px)] ? 1 : 0,
      );
      const final = postprocessMask(mask, p.d, p.h, p.w, {
        minComponentArea: s.minComponentArea,
        largest3DComponent,
      });
      return dice(maskOverlap(p.truth, final));
    });
    const mean = recomputed.reduce((a, b) => a + b, 0) / recomputed.length;
    assert.ok(Math.abs(mean - metrics.oof.chosenOnAll.endToEnd.meanPatientDice) < 1e-9, `${mean} vs summary`);
    JSON.parse(JSON.stringify(metrics));

    // What is committed: no checkpoints, weights as float16 whose predictions agree with the trained float32 ones.
    const kept = join(tempDir(t), 'kept');
    assert.equal(collectCv(cvDir, kept, FOLDS).length, 2 * FOLDS);
    assert.ok(!readdirSync(stageDir(kept, 0, 'segmenter')).some((f) => f.startsWith('checkpoint')));
    assert.ok(existsSync(join(kept, 'fold-1', 'oof', 'segmenter.json')));
    // Committed files name no folder of this machine: the data and run folders are made portable.
    for (const file of [join(stageDir(kept, 0, 'segmenter'), 'best.json'), join(kept, 'split.json')]) {
      const text = readFileSync(file, 'utf8');
      assert.ok(!text.includes(data) && !text.includes(cvDir), `${file} names ${data} or ${cvDir}`);
    }
    const cache = await loadSlices(scanDataset(data), { width: IMAGE_SIZE, height: IMAGE_SIZE });
    const { images } = assembleBatch(cache, [0, 1, 2, 3], {
      preprocess: { ...RESCALE_256, width: IMAGE_SIZE, height: IMAGE_SIZE },
    });
    for (const stage of ['segmenter', 'classifier'] as const) {
      const original = loadModel(join(stageDir(cvDir, 0, stage), 'best'), stage);
      const halved = loadModel(join(stageDir(kept, 0, stage), 'best'), stage);
      assert.equal(
        loadSafetensors(join(stageDir(kept, 0, stage), 'best.safetensors'))
          .tensors.values()
          .next().value!.dtype,
        'float16',
      );
      // Compared as probabilities, what every decision reads (logits are unbounded; a relative float16 error
      // of 1e-3 in a logit of 20 moves no decision).
      const probabilities = (m: typeof original) =>
        noGrad(() => {
          m.model.eval();
          const out = m.model.forward(images);
          return (stage === 'segmenter' ? F.sigmoid(out) : F.softmax(out, 1)).data() as Float32Array;
        });
      const [a, b] = [probabilities(original), probabilities(halved)];
      const worst = a.reduce((w, v, i) => Math.max(w, Math.abs(v - b[i]!)), 0);
      assert.ok(worst < 0.01, `${stage}: float16 copy's probabilities differ by up to ${worst}`);
      const flipped = a.filter((v, i) => v >= 0.5 !== b[i]! >= 0.5).length;
      assert.ok(flipped <= a.length * 0.001, `${stage}: ${flipped} of ${a.length} decisions at 0.5 differ`);
    }
    assert.ok(readFileSync(join(cvDir, 'split.json'), 'utf8').includes('"k-fold"'));

    // OOF outputs again in bfloat16 (to re-check a decision for --backend torch-bf16): said in the index, close
    // to float32's.
    const float32 = { c: readClassifierOof(cvDir, 0), s: readSegmenterOof(cvDir, 0) };
    assert.equal(float32.c.precision, 'fp32');
    const maps32 = float32.s.patients.map((p) => readSegmenterProbs(cvDir, float32.s, p, 'none'));
    for (const stage of ['segmenter', 'classifier'] as const)
      await writeOof({ data, cvDir, fold: 0, batch: 4, tta: ['none'], precision: 'bf16', log: quiet }, stage);
    const bf16 = { c: readClassifierOof(cvDir, 0), s: readSegmenterOof(cvDir, 0) };
    assert.equal(bf16.c.precision, 'bf16');
    assert.equal(bf16.s.precision, 'bf16');
    // A bfloat16 number is a float32 whose low 16 bits are zero: the network's output shows where it ran.
    const onBfloat16Grid = (v: number) => (new Uint32Array(new Float32Array([v]).buffer)[0]! & 0xffff) === 0;
    assert.ok(!float32.c.patients.every((p) => p.p.every(onBfloat16Grid)));
    for (const [k, p] of bf16.c.patients.entries())
      for (const [i, v] of p.p.entries()) {
        assert.ok(onBfloat16Grid(v), `${p.id}: P(tumour) ${v} was not computed in bfloat16`);
        assert.ok(Math.abs(v - float32.c.patients[k]!.p[i]!) < 0.05, p.id);
      }
    for (const [k, p] of bf16.s.patients.entries()) {
      const bytes = readSegmenterProbs(cvDir, bf16.s, p, 'none');
      const worst = bytes.reduce((w, v, i) => Math.max(w, Math.abs(v - maps32[k]![i]!)), 0);
      assert.ok(worst <= 13, `${p.id}: bfloat16 maps differ by ${worst}/255`);
    }
  });
});
