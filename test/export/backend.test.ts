// `--backend auto|torch|onnx`: the choice by measurement (made-up timings and a made-up clock, never the real
// one), its cache, and the runners on each engine, which must give the same predictions within the export's
// 1e-4 whichever engine runs each stage.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setNumThreads } from '../../src/engine/index.ts';
import {
  type Backend,
  type BackendSetting,
  calibrate,
  chooseBackend,
  EXPORT_TOLERANCE,
  MeasurementStore,
} from '../../src/export/backend-choice.ts';
import { cachedExport, inferenceBackends, modelHash } from '../../src/export/backend-runners.ts';
import { predictSlices, type SliceInput } from '../../src/inference/predict-slices.ts';
import { loadModels } from '../../src/pipeline/default-models.ts';
import type { LoadedModels } from '../../src/pipeline/load-model.ts';
import { sliceInputsFromFiles } from '../../src/pipeline/slice-inputs.ts';
import { saveTinyModels } from '../helpers/tiny-models.ts';

setNumThreads(1);

describe('chooseBackend', () => {
  it('takes the engine of the smaller median, libtorch on a tie', () => {
    assert.equal(chooseBackend({ torch: [10, 11, 30], onnx: [9, 12, 10] }, 0).backend, 'onnx');
    assert.equal(chooseBackend({ torch: [8, 50, 9], onnx: [9, 9, 9] }, 0).backend, 'torch');
    assert.equal(chooseBackend({ torch: [5, 7], onnx: [6, 6] }, 0).backend, 'torch');
    assert.deepEqual(chooseBackend({ torch: [5, 7], onnx: [6, 4] }, 0).ms, { torch: 6, onnx: 5 });
  });

  it('keeps libtorch when the export does not match it, however fast onnxruntime is', () => {
    const m = chooseBackend({ torch: [100], onnx: [1] }, EXPORT_TOLERANCE * 10);
    assert.equal(m.backend, 'torch');
    assert.equal(chooseBackend({ torch: [100], onnx: [1] }, EXPORT_TOLERANCE).backend, 'onnx');
  });

  it('refuses to choose without timings', () => {
    assert.throws(() => chooseBackend({ torch: [], onnx: [1] }, 0), /no timings for torch/);
  });
});

describe('calibrate', () => {
  /** Two engines that take the given (made-up) milliseconds on a made-up clock, and answer `outputs`. */
  function engines(ms: Record<Backend, number>, outputs: Record<Backend, number>) {
    let clock = 0;
    const calls: Backend[] = [];
    const engine = (backend: Backend) => async (_x: Float32Array, n: number) => {
      calls.push(backend);
      clock += ms[backend];
      return new Float32Array(n).fill(outputs[backend]);
    };
    return { runs: { torch: engine('torch'), onnx: engine('onnx') }, now: () => clock, calls };
  }

  it('times both engines in turns after their warm-up and takes the faster', async () => {
    const e = engines({ torch: 12, onnx: 7 }, { torch: 0.25, onnx: 0.25 });
    const m = await calibrate(e.runs, new Float32Array(2), 2, { warmup: 1, iterations: 3, now: e.now });
    assert.deepEqual(m, { backend: 'onnx', ms: { torch: 12, onnx: 7 }, maxDifference: 0 });
    assert.deepEqual(e.calls, ['torch', 'onnx', 'torch', 'onnx', 'onnx', 'torch', 'torch', 'onnx']);
    const slower = engines({ torch: 5, onnx: 7 }, { torch: 0.25, onnx: 0.25 });
    const m2 = await calibrate(slower.runs, new Float32Array(2), 2, {
      warmup: 0,
      iterations: 2,
      now: slower.now,
    });
    assert.equal(m2.backend, 'torch');
  });

  it('compares the outputs and keeps libtorch when they differ beyond the export tolerance', async () => {
    const e = engines({ torch: 12, onnx: 7 }, { torch: 0.25, onnx: 0.2502 });
    const m = await calibrate(e.runs, new Float32Array(1), 1, { warmup: 0, iterations: 1, now: e.now });
    assert.equal(m.backend, 'torch');
    assert.ok(Math.abs(m.maxDifference - 2e-4) < 1e-6, String(m.maxDifference));
  });
});

describe('MeasurementStore', () => {
  it('keeps a measurement per machine, model, threads and batch, and reads a damaged file as empty', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tumorscope-measurements-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const store = new MeasurementStore(join(dir, 'sub', 'm.json'));
    const key = { machine: 'cpu ×2', model: 'abc', threads: 2, batch: 4 };
    const m = { backend: 'onnx' as const, ms: { torch: 10, onnx: 8 }, maxDifference: 1e-6 };
    assert.equal(store.get(key), undefined);
    assert.equal(store.set(key, m), true);
    assert.deepEqual({ ...store.get(key), measuredAt: undefined }, { ...m, measuredAt: undefined });
    assert.equal(store.get({ ...key, threads: 1 }), undefined);
    assert.equal(store.get({ ...key, batch: 8 }), undefined);
    assert.equal(new MeasurementStore(store.file).get(key)?.backend, 'onnx');
    writeFileSync(store.file, '{ not json');
    assert.equal(store.get(key), undefined);
    assert.equal(store.set(key, m), true);
    assert.equal(store.get(key)?.backend, 'onnx');
  });
});

describe('inferenceBackends', () => {
  let dir: string;
  let paths: ReturnType<typeof saveTinyModels>;
  let models: LoadedModels;
  let inputs: SliceInput[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-backends-'));
    // Threshold 0: every slice called, so that both stages run on every slice.
    paths = saveTinyModels(join(dir, 'models'), 0);
    models = loadModels(paths);
    const examples = join(import.meta.dirname, '../../examples/TCGA_DU_8167_19970402');
    const names = readdirSync(examples)
      .filter((n) => /_\d+\.tif$/.test(n))
      .slice(0, 6);
    inputs = await sliceInputsFromFiles(
      names.map((name) => ({ name, bytes: readFileSync(join(examples, name)) })),
    );
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Each slice's P(tumour) and probability map, on the given runners. */
  async function predictions(backend: BackendSetting, cacheDir: string, loaded = models) {
    const b = await inferenceBackends(loaded, {
      backend,
      batch: 4,
      threads: 1,
      cacheDir,
      calibration: { warmup: 0, iterations: 1 },
    });
    try {
      const p = await predictSlices(b.runners, inputs, { batch: 4, probabilities: true });
      return { chosen: b.chosen, slices: p.slices };
    } finally {
      await b.release();
    }
  }

  function assertSamePredictions(
    got: Awaited<ReturnType<typeof predictions>>['slices'],
    want: Awaited<ReturnType<typeof predictions>>['slices'],
  ) {
    assert.equal(got.length, want.length);
    for (const [k, s] of got.entries()) {
      const w = want[k]!;
      assert.ok(Math.abs(s.probability - w.probability) <= EXPORT_TOLERANCE, `${s.name}: P`);
      assert.equal(s.tumour, w.tumour, s.name);
      const a = s.probabilities!;
      const b = w.probabilities!;
      assert.equal(a.length, b.length);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      assert.ok(worst <= EXPORT_TOLERANCE, `${s.name}: probability maps differ by ${worst}`);
    }
  }

  it('predicts on onnxruntime as on libtorch, within the export tolerance, exporting once into the cache', async () => {
    const cache = join(dir, 'cache-onnx');
    const torch = await predictions('torch', cache);
    assert.deepEqual(torch.chosen, { classifier: { backend: 'torch' }, segmenter: { backend: 'torch' } });
    const onnx = await predictions('onnx', cache);
    assert.deepEqual(onnx.chosen, { classifier: { backend: 'onnx' }, segmenter: { backend: 'onnx' } });
    assertSamePredictions(onnx.slices, torch.slices);
    assert.ok(torch.slices.every((s) => s.tumour && s.probabilities));
    // One export per stage, named by the model's hash; the next run reads it rather than exporting again,
    // which a file swapped for the other stage's export shows.
    const files = readdirSync(join(cache, 'onnx')).sort();
    assert.deepEqual(files, [
      `classifier-${modelHash(models.classifier)}.onnx`,
      `segmenter-${modelHash(models.segmenter)}.onnx`,
    ]);
    writeFileSync(join(cache, 'onnx', files[0]!), readFileSync(join(cache, 'onnx', files[1]!)));
    await assert.rejects(predictions('onnx', cache), /a segmenter model was given as the classifier/);
  });

  it('torch-bf16 runs both networks in bfloat16: within a few hundredths of float32, on a coarser grid', async () => {
    const cache = join(dir, 'cache-bf16');
    const float32 = await predictions('torch', cache);
    // Its own copy of the models: the conversion is in place.
    const own = loadModels(paths);
    const bf16 = await predictions('torch-bf16', cache, own);
    assert.deepEqual(bf16.chosen, {
      classifier: { backend: 'torch-bf16' },
      segmenter: { backend: 'torch-bf16' },
    });
    for (const stage of ['classifier', 'segmenter'] as const)
      for (const [name, p] of own[stage].model.namedParameters())
        assert.equal(p.dtype, 'bfloat16', `${stage} ${name}`);
    let worst = 0;
    for (const [k, s] of bf16.slices.entries()) {
      const w = float32.slices[k]!;
      worst = Math.max(worst, Math.abs(s.probability - w.probability));
      const a = s.probabilities!;
      const b = w.probabilities!;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    }
    assert.ok(worst <= 0.05, `bfloat16 moved a probability by ${worst}`);
    // Float32 arithmetic would agree to the export tolerance; bfloat16 keeps 8 significant bits.
    assert.ok(worst > EXPORT_TOLERANCE, `no difference from float32 (${worst}): not run in bfloat16`);
  });

  it('auto measures once, then follows what the cache says, predicting alike on either engine', async () => {
    const cache = join(dir, 'cache-auto');
    const torch = await predictions('torch', cache);
    const first = await predictions('auto', cache);
    for (const stage of ['classifier', 'segmenter'] as const) {
      assert.equal(first.chosen[stage].cached, false);
      assert.ok(first.chosen[stage].measurement!.maxDifference <= EXPORT_TOLERANCE);
    }
    assertSamePredictions(first.slices, torch.slices);
    const second = await predictions('auto', cache);
    for (const stage of ['classifier', 'segmenter'] as const) {
      assert.equal(second.chosen[stage].cached, true);
      assert.equal(second.chosen[stage].backend, first.chosen[stage].backend);
    }
    // The stored choices turned round: the next run follows them without measuring.
    const file = join(cache, 'backend-measurements.json');
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    for (const m of Object.values(stored.measurements) as { backend: Backend }[])
      m.backend = m.backend === 'torch' ? 'onnx' : 'torch';
    writeFileSync(file, JSON.stringify(stored));
    const flipped = await predictions('auto', cache);
    for (const stage of ['classifier', 'segmenter'] as const) {
      assert.equal(flipped.chosen[stage].cached, true);
      assert.notEqual(flipped.chosen[stage].backend, first.chosen[stage].backend);
    }
    assertSamePredictions(flipped.slices, torch.slices);
  });

  it('names an export by the model files: another config, another file', () => {
    // The same kind of network saved with another threshold.
    const other = loadModels(saveTinyModels(join(dir, 'other'), 0.5));
    assert.notEqual(modelHash(other.classifier), modelHash(models.classifier));
    const cache = join(dir, 'cache-hash');
    const a = cachedExport(models.classifier, cache);
    const b = cachedExport(other.classifier, cache);
    assert.notDeepEqual(a, b);
    assert.equal(readdirSync(join(cache, 'onnx')).length, 2);
  });
});
