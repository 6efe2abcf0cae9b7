// One side of bench/inference in a fresh process: loads one shipped model into our engine or its exported ONNX
// file into onnxruntime-node, warms up, then times batch 1 and batch 8 inference (input in, probabilities out
// as a Float32Array) and prints the wall-clock and process CPU times as one JSON line.
//
//   node --import tsx bench/inference/worker.ts ours|onnxruntime MODEL_BASE ONNX_FILE THREADS ITERATIONS WARMUP [VARIANT]
//
// VARIANT (ours only): 'optimized' (default: optimizeForInference, i.e. folded batch norms, channels-last, every
// convolution straight to oneDNN), 'no-onednn' (the same without the last step) or 'plain'.
import { readFileSync } from 'node:fs';
import { integer } from '../../src/cli/options.ts';
import { F, noGrad, setNumThreads, tensor, tidy } from '../../src/engine/index.ts';
import { readOnnxMetadata } from '../../src/export/index.ts';
import type { DenseNet } from '../../src/models/densenet.ts';
import { optimizeForInference } from '../../src/models/optimize-for-inference.ts';
import type { ResUNet } from '../../src/models/resunet.ts';
import { loadModel } from '../../src/pipeline/load-model.ts';
import { BATCHES, benchInput, type ModelName, type WorkerResult } from './cases.ts';

const [side, base, onnxFile, threadsArg, iterationsArg, warmupArg, variant = 'optimized'] =
  process.argv.slice(2);
const threads = integer('threads', { min: 1 })(threadsArg ?? '');
const iterations = integer('iterations', { min: 1 })(iterationsArg ?? '');
const warmup = integer('warm-up', { min: 0 })(warmupArg ?? '');
const model = (base!.endsWith('classifier') ? 'classifier' : 'segmenter') as ModelName;

type Run = (x: Float32Array, batch: number) => Promise<Float32Array>;

async function oursRunner(): Promise<{ run: Run; size: number }> {
  setNumThreads(threads);
  const loaded = loadModel(base!);
  loaded.model.eval();
  if (variant === 'optimized') optimizeForInference(loaded.model as DenseNet | ResUNet);
  if (variant === 'no-onednn') optimizeForInference(loaded.model as DenseNet | ResUNet, { onednn: false });
  const size = loaded.preprocess.width;
  const classifier = loaded.kind === 'classifier';
  const run: Run = async (x, batch) =>
    noGrad(() =>
      tidy(() => {
        const out = loaded.model.forward(tensor(x, [batch, 3, size, size]));
        return (classifier ? F.softmax(out, 1) : F.sigmoid(out)).toFloat32();
      }),
    );
  return { run, size };
}

async function ortRunner(): Promise<{ run: Run; size: number }> {
  const ort = await import('onnxruntime-node');
  const file = new Uint8Array(readFileSync(onnxFile!));
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const [input] = session.inputNames;
  const [output] = session.outputNames;
  // The input size, as the file's own metadata states it.
  const size = (readOnnxMetadata(file)['preprocess'] as { width: number }).width;
  const run: Run = async (x, batch) => {
    const result = await session.run({ [input!]: new ort.Tensor('float32', x, [batch, 3, size, size]) });
    return result[output!]!.data as Float32Array;
  };
  return { run, size };
}

const { run, size } = side === 'ours' ? await oursRunner() : await ortRunner();
const times: Record<string, number[]> = {};
const cpu: Record<string, number[]> = {};
for (const batch of BATCHES) {
  const x = benchInput(batch, size);
  for (let i = 0; i < warmup; i++) await run(x, batch);
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run(x, batch);
    samples.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuSamples.push((c.user + c.system) / 1000);
  }
  times[String(batch)] = samples;
  cpu[String(batch)] = cpuSamples;
}
const result: WorkerResult = { side: side === 'ours' ? 'ours' : 'onnxruntime', model, times, cpu };
console.log(JSON.stringify(result));
