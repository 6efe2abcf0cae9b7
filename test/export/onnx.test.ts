// ONNX export: each architecture, exported and run in onnxruntime-node, gives the engine's eval-mode output on
// real slices (max abs difference ≤ 1e-4), at batch 1 and 3 (the batch dimension is dynamic), with the metadata
// read back. Batch-norm statistics and affine parameters are randomised first, so that a wrongly folded or
// mapped layer changes the output; one test checks that a single wrong batch-norm statistic does.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { registerExport } from '../../src/cli/commands/export.ts';
import { RESCALE_256 } from '../../src/data/preprocess.ts';
import {
  Conv2d,
  ConvTranspose2d,
  F,
  init,
  type Module,
  manualSeed,
  noGrad,
  saveModel,
  setNumThreads,
  tensor,
  tidy,
} from '../../src/engine/index.ts';
import {
  CLASSIFIER_OUTPUT,
  encodeMetadata,
  exportModelToOnnx,
  exportNetworkToOnnx,
  INPUT_NAME,
  OPSET,
  readOnnxMetadata,
  SEGMENTER_OUTPUT,
  TUMORSCOPE_VERSION,
} from '../../src/export/index.ts';
import { type Ort, onnxRunners, onnxSegmenter } from '../../src/export/onnx/onnx-runners.ts';
import { readFields } from '../../src/export/onnx/protobuf-reader.ts';
import { libtorchSegmenter } from '../../src/inference/libtorch-runners.ts';
import { predictSlices } from '../../src/inference/predict-slices.ts';
import { segmentSlices } from '../../src/inference/two-stage.ts';
import { DenseNet } from '../../src/models/densenet.ts';
import { optimizeForInference } from '../../src/models/optimize-for-inference.ts';
import { ResUNet } from '../../src/models/resunet.ts';
import { UNet } from '../../src/models/unet.ts';
import { loadModels } from '../../src/pipeline/default-models.ts';
import { loadModel, runnersOf } from '../../src/pipeline/load-model.ts';
import { sliceInputsFromFiles } from '../../src/pipeline/slice-inputs.ts';
import { randomiseBatchNorm } from '../helpers/batch-norm.ts';
import { realSlices, realVolumeRgb } from './slices.ts';

setNumThreads(1);

const SIZE = 64;
const PREPROCESS = { ...RESCALE_256, width: SIZE, height: SIZE };
const TOLERANCE = 1e-4;

function engineOutput(net: Module, input: Float32Array, shape: number[], classifier: boolean): Float32Array {
  net.eval();
  return noGrad(() =>
    tidy(() => {
      const out = net.forward(tensor(input, shape));
      return (classifier ? F.softmax(out, 1) : F.sigmoid(out)).contiguous().toFloat32();
    }),
  );
}

async function onnxOutput(file: Uint8Array, input: Float32Array, shape: number[]) {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    assert.deepEqual(session.inputNames, [INPUT_NAME]);
    const result = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', input, shape) });
    const name = session.outputNames[0]!;
    const out = result[name]!;
    return { name, dims: [...out.dims], data: out.data as Float32Array };
  } finally {
    await session.release();
  }
}

function spread(a: Float32Array): number {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of a) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return hi - lo;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** The opset the file imports for the default ONNX domain (ModelProto.opset_import, field 8). */
function opsetOf(file: Uint8Array): number {
  for (const f of readFields(file)) {
    if (f.field !== 8 || !f.bytes) continue;
    const entry = readFields(f.bytes);
    const domain = entry.find((e) => e.field === 1)?.bytes;
    if (!domain || domain.length === 0) return entry.find((e) => e.field === 2)!.value!;
  }
  throw new Error('no opset_import for the default domain');
}

/** Exports `net`, runs it at batch 1 and 3 in both runtimes and compares. */
async function checkAgainstEngine(
  net: Module,
  file: Uint8Array,
  size: { width: number; height: number; preprocess: typeof PREPROCESS },
  classifier: boolean,
): Promise<void> {
  const slices = realSlices(size.preprocess, 3);
  for (const batch of [1, 3]) {
    const shape = [batch, 3, size.height, size.width];
    const input = slices.subarray(0, batch * 3 * size.height * size.width);
    const ours = engineOutput(net, input, shape, classifier);
    const onnx = await onnxOutput(file, input, shape);
    assert.equal(onnx.name, classifier ? CLASSIFIER_OUTPUT : SEGMENTER_OUTPUT);
    assert.deepEqual(onnx.dims, classifier ? [batch, 2] : [batch, 1, size.height, size.width]);
    const diff = maxAbsDiff(onnx.data, ours);
    assert.ok(diff <= TOLERANCE, `batch ${batch}: max |onnx − engine| = ${diff}`);
    // A constant output would compare equal whatever the graph did.
    assert.ok(spread(ours) > 0.01, `batch ${batch}: output is nearly constant`);
  }
}

const small = { width: SIZE, height: SIZE, preprocess: PREPROCESS };
const exportSmall = (network: Module) =>
  exportNetworkToOnnx({
    network,
    height: SIZE,
    width: SIZE,
    metadata: encodeMetadata({ version: TUMORSCOPE_VERSION }),
    producerVersion: TUMORSCOPE_VERSION,
  });

// The example slices and shipped models are committed: missing ones fail these tests rather than skip them.
describe('ONNX export', () => {
  it('DenseNet (small config, hidden head, Keras eps) matches the engine', async () => {
    manualSeed(1);
    const net = new DenseNet({
      growthRate: 8,
      blockConfig: [2, 3],
      numInitFeatures: 16,
      bnSize: 2,
      dropRate: 0.1,
      numClasses: 2,
      headDropout: 0.2,
      headHidden: 8,
      bnEps: 1.001e-5,
    });
    randomiseBatchNorm(net);
    await checkAgainstEngine(net, exportSmall(net), small, true);
  });

  it('DenseNet with a single linear head matches the engine', async () => {
    manualSeed(2);
    const net = new DenseNet({
      growthRate: 4,
      blockConfig: [1, 2, 1],
      numInitFeatures: 8,
      bnSize: 2,
      dropRate: 0,
      numClasses: 2,
      headDropout: 0,
      headHidden: 0,
    });
    randomiseBatchNorm(net);
    await checkAgainstEngine(net, exportSmall(net), small, true);
  });

  it('ResUNet (small config) matches the engine', async () => {
    manualSeed(3);
    const net = new ResUNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 });
    randomiseBatchNorm(net);
    await checkAgainstEngine(net, exportSmall(net), small, false);
  });

  it('U-Net (small config) matches the engine', async () => {
    manualSeed(4);
    const net = new UNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 });
    // PyTorch's default init leaves this small U-Net's output nearly constant: He init, as the other models.
    for (const [, m] of net.namedModules()) {
      if (m instanceof Conv2d || m instanceof ConvTranspose2d) init.kaimingNormal_(m.weight);
    }
    randomiseBatchNorm(net);
    await checkAgainstEngine(net, exportSmall(net), small, false);
  });

  it('a single wrong batch-norm statistic moves the output beyond the tolerance', async () => {
    manualSeed(5);
    const net = new ResUNet({ inChannels: 3, outChannels: 1, features: 4, depth: 2 });
    randomiseBatchNorm(net);
    const file = exportSmall(net);
    // Export, then shift one channel's running mean in the engine only (a folding off by one statistic).
    const bn = net.encoders[0]!.bn1;
    noGrad(() => bn.runningMean!.add_(0.5));
    const shape = [1, 3, SIZE, SIZE];
    const input = realSlices(PREPROCESS, 1);
    const diff = maxAbsDiff(
      (await onnxOutput(file, input, shape)).data,
      engineOutput(net, input, shape, false),
    );
    assert.ok(
      diff > 100 * TOLERANCE,
      `max |onnx − engine| = ${diff}: the comparison would miss a wrong weight`,
    );
  });

  it('exports a network already prepared for inference (folded, channels-last) to the same graph values', async () => {
    manualSeed(6);
    const net = new DenseNet({
      growthRate: 4,
      blockConfig: [2, 2],
      numInitFeatures: 8,
      bnSize: 2,
      dropRate: 0,
      numClasses: 2,
      headDropout: 0,
      headHidden: 0,
    });
    randomiseBatchNorm(net);
    net.eval();
    const input = realSlices(PREPROCESS, 2);
    const shape = [2, 3, SIZE, SIZE];
    const plain = (await onnxOutput(exportSmall(net), input, shape)).data;
    optimizeForInference(net);
    await checkAgainstEngine(net, exportSmall(net), small, true);
    assert.ok(maxAbsDiff((await onnxOutput(exportSmall(net), input, shape)).data, plain) <= TOLERANCE);
  });

  it('tumorscope export writes a file onnxruntime runs, opset ≥ 13, batch dynamic, metadata inside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tumorscope-export-'));
    try {
      manualSeed(7);
      const network = { inChannels: 3, outChannels: 1, features: 4, depth: 2 };
      const preprocess = { ...RESCALE_256, width: 32, height: 32 };
      saveModel(join(dir, 'unet'), new UNet(network), {
        kind: 'segmenter',
        architecture: 'unet',
        network,
        preprocess,
        threshold: 0.4,
        postprocess: { threshold: 0.4 },
      });
      const out = join(dir, 'unet.onnx');
      const log = mock.method(console, 'log', () => {});
      try {
        const program = new Command().exitOverride();
        registerExport(program);
        await program.parseAsync(['export', '--model', join(dir, 'unet'), '--format', 'onnx', '--out', out], {
          from: 'user',
        });
      } finally {
        log.mock.restore();
      }
      const file = new Uint8Array(readFileSync(out));
      assert.ok(opsetOf(file) >= 13);
      assert.equal(opsetOf(file), OPSET);
      const meta = readOnnxMetadata(file);
      assert.equal(meta['kind'], 'segmenter');
      assert.equal(meta['architecture'], 'unet');
      assert.deepEqual(meta['preprocess'], preprocess);
      assert.equal(meta['threshold'], 0.4);
      assert.deepEqual(meta['network'], network);
      const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
      try {
        for (const batch of [1, 2]) {
          const input = new Float32Array(batch * 3 * 32 * 32).fill(0.5);
          const result = await session.run({
            [INPUT_NAME]: new ort.Tensor('float32', input, [batch, 3, 32, 32]),
          });
          assert.deepEqual([...result[SEGMENTER_OUTPUT]!.dims], [batch, 1, 32, 32]);
        }
      } finally {
        await session.release();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const models = join(import.meta.dirname, '../../models');
  for (const name of ['classifier', 'segmenter']) {
    const base = join(models, name);
    it(`the shipped ${name} matches the engine, metadata included`, async () => {
      const loaded = loadModel(base);
      const file = exportModelToOnnx(loaded);
      const { width, height } = loaded.preprocess;
      await checkAgainstEngine(
        loaded.model,
        file,
        { width, height, preprocess: loaded.preprocess as typeof PREPROCESS },
        loaded.kind === 'classifier',
      );
      const meta = readOnnxMetadata(file);
      assert.equal(opsetOf(file), OPSET);
      assert.equal(meta['version'], TUMORSCOPE_VERSION);
      assert.equal(meta['kind'], loaded.kind);
      assert.equal(meta['architecture'], loaded.config.architecture);
      assert.deepEqual(meta['preprocess'], loaded.preprocess);
      assert.equal(meta['threshold'], loaded.config.threshold);
      if (loaded.kind === 'segmenter') assert.deepEqual(meta['postprocess'], loaded.postprocess);
      else assert.deepEqual(meta['classes'], loaded.config['classes']);
    });
  }

  it('a 2.5-D segmenter (neighbouring slices as channels) runs in the two-stage core on onnxruntime as on libtorch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tumorscope-onnx-25d-'));
    try {
      manualSeed(5);
      const preprocess = { ...PREPROCESS, neighbours: 1 };
      const net = new ResUNet({ inChannels: 9, outChannels: 1, features: 4, depth: 2 });
      randomiseBatchNorm(net);
      const config = {
        kind: 'segmenter',
        architecture: 'resunet',
        network: net.config,
        preprocess,
        threshold: 0.5,
      };
      saveModel(join(dir, 'segmenter'), net, config);
      // A config whose network does not take the stacked channels is refused, by file and by cause.
      saveModel(join(dir, 'wrong'), net, { ...config, preprocess: { ...preprocess, neighbours: 2 } });
      assert.throws(
        () => loadModel(join(dir, 'wrong')),
        /wrong\.json: network\.inChannels is 9, but preprocess stacks 15 channels/,
      );
      const loaded = loadModel(join(dir, 'segmenter'), 'segmenter');
      if (loaded.kind !== 'segmenter') throw new Error('a segmenter was saved');
      const onnx = await onnxSegmenter(ort as unknown as Ort, exportModelToOnnx(loaded), {
        intraOpNumThreads: 1,
      });
      assert.deepEqual(onnx.preprocess, preprocess);
      const rgb = realVolumeRgb(preprocess);
      const volume = { depth: 4, rgb: () => rgb };
      const all = [0, 1, 2, 3];
      const ours = await segmentSlices(libtorchSegmenter(loaded), volume, all, { batch: 3 });
      const theirs = await segmentSlices(onnx, volume, all, { batch: 3 });
      assert.ok(maxAbsDiff(theirs, ours) <= TOLERANCE, `max |onnx − engine| = ${maxAbsDiff(theirs, ours)}`);
      assert.ok(spread(ours) > 0.01, 'output is nearly constant');
      // The neighbours reach the network: slice 1 alone (its own neighbours) is segmented differently.
      const plane = SIZE * SIZE;
      const alone = rgb.slice(plane * 3, 2 * plane * 3);
      const lone = await segmentSlices(libtorchSegmenter(loaded), { depth: 1, rgb: () => alone }, [0], {
        batch: 1,
      });
      assert.ok(
        maxAbsDiff(lone, ours.subarray(plane, 2 * plane)) > 1e-3,
        'a lone slice equals one with neighbours',
      );
      await onnx.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the two-stage core on onnxruntime-node as on libtorch, its fusion rule read from the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tumorscope-onnx-core-'));
    try {
      // The shipped pair, the segmenter saved with a fusion rule (the mean of both stages over ±1 slice).
      const fusion = { detector: 'mean', sliceRadius: 1, threshold: 0.5 };
      const segmenter = join(dir, 'segmenter');
      copyFileSync(join(models, 'segmenter.safetensors'), `${segmenter}.safetensors`);
      const config = JSON.parse(readFileSync(join(models, 'segmenter.json'), 'utf8'));
      writeFileSync(`${segmenter}.json`, JSON.stringify({ ...config, fusion }));
      const pair = loadModels({ segmenter });
      const files = {
        classifier: exportModelToOnnx(loadModel(join(models, 'classifier'))),
        segmenter: exportModelToOnnx(loadModel(segmenter)),
      };
      const onnx = await onnxRunners(ort as unknown as Ort, files, { intraOpNumThreads: 1 });
      assert.deepEqual(onnx.segmenter.fusion, fusion);
      const examples = join(import.meta.dirname, '../../examples/TCGA_DU_8167_19970402');
      const inputs = await sliceInputsFromFiles(
        readdirSync(examples).map((name) => ({ name, bytes: readFileSync(join(examples, name)) })),
      );
      const [want, got] = await Promise.all([
        predictSlices(runnersOf(pair), inputs, { batch: 4 }),
        predictSlices(onnx, inputs, { batch: 4 }),
      ]);
      assert.deepEqual(got.gate, fusion);
      assert.deepEqual(want.gate, fusion);
      for (const [k, s] of got.slices.entries()) {
        const w = want.slices[k]!;
        assert.ok(
          Math.abs(s.probability - w.probability) < 1e-4,
          `${s.name}: P ${s.probability} vs ${w.probability}`,
        );
        assert.ok(Math.abs(s.score - w.score) < 1e-4, `${s.name}: score`);
        assert.equal(s.tumour, w.tumour, s.name);
        if (!s.mask || !w.mask) {
          assert.equal(s.mask, w.mask);
          continue;
        }
        // Float rounding may flip a pixel whose probability sits on the threshold; no more.
        const differing = s.mask.reduce((n, v, i) => n + (v !== w.mask![i] ? 1 : 0), 0);
        assert.ok(differing <= 2, `${s.name}: ${differing} mask pixels differ`);
      }
      assert.ok(got.slices.some((s) => s.tumour));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
