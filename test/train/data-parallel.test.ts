// Data-parallel training on libtorch's c10d (TCPStore + Gloo), with real processes on 127.0.0.1: two ranks end
// with the weights of single-process training on the concatenated batch (batch norm: as PyTorch DDP by default),
// every rank holds the same weights, a rank that dies or hangs makes the other fail with a clear error within the
// timeout, and runs after the first reuse the same port.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../src/cli/launch.ts';
import { rankShare } from '../../src/data/sampler.ts';
import { DistributedError, noGrad, ProcessGroup, tensor, tidy } from '../../src/engine/index.ts';
import { gradientBuckets } from '../../src/train/data-parallel.ts';
import { repoRoot, tempDir } from '../data/fixtures.ts';
import { assertClose } from '../helpers/assert-close.ts';
import {
  batchRows,
  GLOBAL_BATCH,
  lossOf,
  makeOptimizer,
  tinyNet,
  weightsOf,
} from '../helpers/data-parallel.ts';

const STEPS = 4;

describe('data-parallel pieces', () => {
  it('rank shares are disjoint and, side by side, are the single-process epoch batch by batch', () => {
    const order = Array.from({ length: 23 }, (_, i) => (i * 7) % 23);
    const shares = [0, 1, 2, 3].map((r) => rankShare(order, 8, r, 4));
    const seen = new Set<number>();
    for (const share of shares) {
      assert.equal(share.length, 4); // 2 full global batches of 8, 2 slices each per rank
      for (const i of share) {
        assert.ok(!seen.has(i), `slice ${i} in two shares`);
        seen.add(i);
      }
    }
    // Step s of rank r is positions [8s + 2r, 8s + 2r + 2) of the order: the global batch in rank order.
    const stitched = [0, 1].flatMap((s) => shares.flatMap((share) => [...share.subarray(2 * s, 2 * s + 2)]));
    assert.deepEqual(stitched, order.slice(0, 16));
    assert.throws(() => rankShare(order, 6, 0, 4), /a batch of 6 does not split into 4 equal parts/);
    assert.throws(() => rankShare(order, 8, 4, 4), /rank 4 is not one of 4 ranks/);
  });

  it('gradient buckets fill up to the cap; a parameter above it gets its own', () => {
    assert.deepEqual(gradientBuckets([10, 10, 10, 10], 25), [2, 2]);
    assert.deepEqual(gradientBuckets([10, 40, 10], 25), [1, 1, 1]);
    assert.deepEqual(gradientBuckets([5, 5, 5], 100), [3]);
    assert.deepEqual(gradientBuckets([], 25), []);
  });

  it('one rank: collectives, messages, and the port free again after close', async () => {
    const port = await freePort();
    for (let run = 0; run < 2; run++) {
      const group = ProcessGroup.join({
        masterAddr: '127.0.0.1',
        masterPort: port,
        rank: 0,
        worldSize: 1,
        timeoutSeconds: 10,
      });
      try {
        const t = tensor([1, 2, 3]);
        group.allreduceSum([t]);
        group.broadcast([t], 0);
        group.barrier();
        assert.deepEqual([...t.toFloat32()], [1, 2, 3]);
        group.publish('k', `run ${run}`);
        assert.equal(group.fetch('k'), `run ${run}`);
      } finally {
        group.close();
      }
    }
  });

  it('a rank whose master never comes fails after the timeout, naming the address', async () => {
    const port = await freePort();
    const started = performance.now();
    assert.throws(
      () =>
        ProcessGroup.join({
          masterAddr: '127.0.0.1',
          masterPort: port,
          rank: 1,
          worldSize: 2,
          timeoutSeconds: 1,
        }),
      (err: unknown) =>
        err instanceof DistributedError &&
        /^rank 1 of 2: joining the rendezvous that rank 0 serves at 127\.0\.0\.1:\d+ failed: .*timed out/.test(
          err.message,
        ) &&
        err.message.includes(`127.0.0.1:${port}`),
    );
    assert.ok(performance.now() - started < 15_000);
  });
});

describe('two ranks on 127.0.0.1', () => {
  // One port for every run here: each run after the first shows that the port is free again.
  const portOnce = freePort();

  it('weights equal single-process training on the concatenated batch, identical on both ranks', async (t) => {
    const dir = tempDir(t);
    const port = await portOnce;
    const runs = await Promise.all(
      [0, 1].map(
        (rank) => runRank({ port, rank, steps: STEPS, out: join(dir, `rank${rank}.json`) }).finished,
      ),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const [plain0, plain1] = [0, 1].map((r) => readWeights(join(dir, `rank${r}.json`), 'plain'));
    const [bn0, bn1] = [0, 1].map((r) => readWeights(join(dir, `rank${r}.json`), 'batchNorm'));
    // Every rank applies the same averaged gradients to the same start: bit for bit the same parameters.
    assert.deepEqual(plain1, plain0);
    for (const k of Object.keys(bn0!).filter((k) => !/running_|num_batches/.test(k)))
      assert.deepEqual(bn1![k], bn0![k], k);

    const reference = singleProcess(false).weights;
    for (const [k, v] of Object.entries(reference))
      assertClose(plain0![k]!, v, { rtol: 1e-5, atol: 1e-6, what: k });
    // Batch norm as PyTorch DDP by default: each rank normalises with its own batch's statistics (the loss is the
    // mean of the two halves' losses), and rank 0's running statistics are broadcast before every forward.
    const withBn = singleProcess(true);
    for (const [k, v] of Object.entries(withBn.weights))
      assertClose(bn0![k]!, v, { rtol: 1e-5, atol: 1e-6, what: k });
    const [mean, variance] = withBn.rank1Stats;
    assertClose(bn1!['1.running_mean']!, mean!, { rtol: 1e-5, atol: 1e-6, what: 'rank 1 running_mean' });
    assertClose(bn1!['1.running_var']!, variance!, { rtol: 1e-5, atol: 1e-6, what: 'rank 1 running_var' });
    const told = JSON.parse(readFileSync(join(dir, 'rank1.json'), 'utf8')).told;
    assert.deepEqual(told, ['NaN', '-Infinity', 0]);
  });

  it('a rank that runs other settings than rank 0 stops, saying what differs', async () => {
    const port = await portOnce;
    const [rank0, rank1] = [0, 1].map((rank) =>
      runRank({ port, rank, steps: 1, settings: { width: 1 + rank } }),
    );
    const [r0, r1] = await Promise.all([rank0!.finished, rank1!.finished]);
    assert.notEqual(r1.code, 0);
    assert.match(
      r1.stderr,
      /rank 1: the settings differ from rank 0's; every rank must run the same command .*"width":1.*"width":2/,
    );
    assert.notEqual(r0.code, 0); // its next collective finds rank 1 gone
  });

  it('a rank killed mid-training makes the other fail at once, naming the operation and the timeout', async () => {
    // Rank 0 serves the store: killing it is the harder case.
    const port = await portOnce;
    const ranks = [0, 1].map((rank) => runRank({ port, rank, forever: true, timeoutSeconds: 60 }));
    await Promise.all(ranks.map((r) => r.reached(3)));
    ranks[0]!.child.kill('SIGKILL');
    const started = performance.now();
    const survivor = await ranks[1]!.finished;
    assert.notEqual(survivor.code, 0);
    assert.match(survivor.stderr, /rank 1 of 2: (gradient allreduce|broadcast) failed: .*timeout of 60 s/);
    assert.ok(performance.now() - started < 30_000, 'the survivor waited for the timeout instead');
  });

  it('a rank that stops answering makes the other fail after the timeout', async () => {
    const port = await portOnce;
    const ranks = [0, 1].map((rank) => runRank({ port, rank, forever: true, timeoutSeconds: 4 }));
    await Promise.all(ranks.map((r) => r.reached(3)));
    ranks[1]!.child.kill('SIGSTOP');
    try {
      const survivor = await ranks[0]!.finished;
      assert.notEqual(survivor.code, 0);
      assert.match(
        survivor.stderr,
        /rank 0 of 2: (gradient allreduce|broadcast) failed: .*[Tt]imed out.*timeout of 4 s/s,
      );
    } finally {
      ranks[1]!.child.kill('SIGKILL');
    }
  });
});

interface RankRun {
  child: ChildProcess;
  /** Resolves once the rank has printed `step n`. */
  reached(n: number): Promise<void>;
  finished: Promise<{ code: number | null; stderr: string }>;
}

function runRank(o: {
  port: number;
  rank: number;
  steps?: number;
  out?: string;
  forever?: boolean;
  timeoutSeconds?: number;
  settings?: unknown;
}): RankRun {
  const args = { worldSize: 2, steps: 0, timeoutSeconds: 30, ...o };
  const worker = 'test/helpers/data-parallel-worker.ts';
  const child = spawn(process.execPath, ['--import', 'tsx', worker, JSON.stringify(args)], { cwd: repoRoot });
  let stdout = '';
  let stderr = '';
  const waiting: { n: number; resolve: () => void }[] = [];
  child.stdout.on('data', (d) => {
    stdout += d;
    for (const w of waiting) if (stdout.includes(`step ${w.n}\n`)) w.resolve();
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return {
    child,
    reached: (n) =>
      withTimeout(
        new Promise<void>((resolve) => waiting.push({ n, resolve })),
        120_000,
        () => `rank ${o.rank} did not reach step ${n}: ${stderr}`,
      ),
    finished: withTimeout(
      new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr }))),
      180_000,
      () => `rank ${o.rank} did not finish: ${stderr}`,
    ),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message())), ms);
    }),
  ]);
}

function readWeights(path: string, which: 'plain' | 'batchNorm'): Record<string, number[]> | undefined {
  return (JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, number[]>>)[which];
}

/**
 * Single-process training from rank 0's start on the whole global batch of each step. With batch norm, the two
 * halves go through the network apart (each normalised with its own statistics), the loss is their mean, and the
 * running statistics kept are those rank 0's half left. Rank 1's are followed by a copy of the network that takes
 * the step's starting state (rank 0's statistics, broadcast before the forward) and sees rank 1's half.
 */
function singleProcess(batchNorm: boolean): { weights: Record<string, number[]>; rank1Stats: number[][] } {
  const model = tinyNet(batchNorm, 1);
  const rank1 = tinyNet(batchNorm, 1);
  const optimizer = makeOptimizer(model);
  const half = GLOBAL_BATCH / 2;
  for (let step = 0; step < STEPS; step++) {
    tidy(() => {
      optimizer.zeroGrad();
      if (!batchNorm) {
        lossOf(model, batchRows(step, 0, GLOBAL_BATCH)).backward();
      } else {
        rank1.loadStateDict(model.stateDict());
        noGrad(() => rank1.forward(batchRows(step, half, GLOBAL_BATCH).x));
        const first = lossOf(model, batchRows(step, 0, half));
        const buffers = model.namedBuffers().map(([, b]) => b);
        const rank0Stats = buffers.map((b) => b.clone());
        const second = lossOf(model, batchRows(step, half, GLOBAL_BATCH));
        first.add(second).div(2).backward();
        // After backward, which still needs the statistics as the forward pass left them.
        buffers.forEach((b, i) => {
          b.copy_(rank0Stats[i]!);
        });
      }
      optimizer.step();
    });
  }
  const rank1Stats = rank1.namedBuffers().map(([, b]) => Array.from(b.toFloat32()));
  return { weights: weightsOf(model), rank1Stats };
}
