// The post-processing config (validation, defaults, JSON round trip) and applyPostprocess's order of steps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// The pure modules directly: the index also loads the engine (libtorch), 1.5 s of start-up these tests do not need.
import { applyPostprocess } from '../../src/postprocess/apply.ts';
import {
  NO_POSTPROCESS,
  type PostprocessConfig,
  parsePostprocessConfig,
  stepsOn,
} from '../../src/postprocess/config.ts';
import { moduleUrl, runModule } from '../helpers/child-process.ts';
import { draw, drawn } from './masks.ts';

/** Probabilities from a drawn mask: `inside` on its voxels, `outside` elsewhere. */
const probsOf = (mask: Uint8Array, inside: number, outside = 0.1) =>
  Float32Array.from(mask, (v) => (v ? inside : outside));

const config = (o: Partial<PostprocessConfig>): PostprocessConfig => ({ ...NO_POSTPROCESS, ...o });

describe('PostprocessConfig', () => {
  it('fills switches missing from an older config with "off", and survives a JSON round trip', () => {
    assert.deepEqual(parsePostprocessConfig({ threshold: 0.4 }), {
      threshold: 0.4,
      minComponentArea: 0,
      largest3DComponent: false,
      tta: 'none',
    });
    const full: PostprocessConfig = {
      threshold: 0.6,
      minComponentArea: 64,
      largest3DComponent: true,
      tta: 'flips',
    };
    assert.deepEqual(parsePostprocessConfig(JSON.parse(JSON.stringify(full))), full);
  });
  it('rejects out-of-range values, wrong types and unknown (misspelt) keys', () => {
    const bad: unknown[] = [
      {},
      { threshold: '0.5' },
      { threshold: 1.5 },
      { threshold: -0.1 },
      { threshold: 0.5, minComponentArea: -1 },
      { threshold: 0.5, minComponentArea: 2.5 },
      { threshold: 0.5, largest3DComponent: 'yes' },
      { threshold: 0.5, tta: 'rotations' },
      { threshold: 0.5, minArea: 16 },
      null,
    ];
    for (const value of bad) assert.throws(() => parsePostprocessConfig(value), Error, JSON.stringify(value));
  });
  it('counts the optional steps switched on', () => {
    assert.equal(stepsOn(NO_POSTPROCESS), 0);
    assert.equal(stepsOn(config({ threshold: 0.3, minComponentArea: 16 })), 1);
    assert.equal(stepsOn(config({ minComponentArea: 16, largest3DComponent: true, tta: 'flips' })), 3);
  });
});

describe('applyPostprocess', () => {
  it('with no step on is the threshold alone (p >= t), as 0/1, and leaves the probabilities untouched', () => {
    const probs = new Float32Array([0.1, 0.5, 0.49, 0.9, 0.3, 0.7]);
    const before = probs.slice();
    assert.deepEqual([...applyPostprocess(probs, 1, 2, 3, NO_POSTPROCESS)], [0, 1, 0, 1, 0, 1]);
    assert.deepEqual([...applyPostprocess(probs, 1, 2, 3, config({ threshold: 0.3 }))], [0, 1, 1, 1, 1, 1]);
    assert.deepEqual(probs, before);
  });

  // A: one voxel per slice through all 5 slices (3-D size 5, 2-D area 1 in each); B: a 2×2 blob in slice 2
  // (3-D size 4, 2-D area 4); C: a voxel below the threshold.
  const volume = drawn(`
    #...
    ....
    ....

    #...
    ....
    ....

    #...
    ..##
    ..##

    #...
    ....
    ....

    #...
    ....
    ...#`);
  const probs = probsOf(volume.mask, 0.8);
  probs[4 * 12 + 11] = 0.4; // C

  it('thresholds first, then removes small 2-D components, then keeps the largest 3-D component', () => {
    // Area first: A's one-voxel pieces go, B is then the largest. (The other order would keep A, the largest
    // 3-D component, then remove it piece by piece: an empty mask.)
    const out = applyPostprocess(probs, 5, 3, 4, config({ minComponentArea: 2, largest3DComponent: true }));
    assert.equal(
      draw(out, 5, 3, 4),
      draw(
        drawn(`
          ....
          ....
          ....

          ....
          ....
          ....

          ....
          ..##
          ..##

          ....
          ....
          ....

          ....
          ....
          ....`).mask,
        5,
        3,
        4,
      ),
    );
  });
  it('each step alone does only its own part', () => {
    const thresholdOnly = applyPostprocess(probs, 5, 3, 4, NO_POSTPROCESS);
    assert.equal(
      thresholdOnly.reduce((a, b) => a + b, 0),
      9,
    ); // A and B; C is below 0.5
    const areaOnly = applyPostprocess(probs, 5, 3, 4, config({ minComponentArea: 2 }));
    assert.equal(
      areaOnly.reduce((a, b) => a + b, 0),
      4,
    ); // B
    const largestOnly = applyPostprocess(probs, 5, 3, 4, config({ largest3DComponent: true }));
    assert.deepEqual(
      [...largestOnly].flatMap((v, i) => (v ? [i] : [])),
      [0, 12, 24, 36, 48],
    ); // A
    const lowThreshold = applyPostprocess(
      probs,
      5,
      3,
      4,
      config({ threshold: 0.3, largest3DComponent: true }),
    );
    assert.equal(
      lowThreshold.reduce((a, b) => a + b, 0),
      5,
    ); // A (5) still beats B (4); C (1) alone
  });
  it('ignores the tta field (TTA changes the probabilities before this step)', () => {
    assert.deepEqual(
      applyPostprocess(probs, 5, 3, 4, config({ tta: 'flips' })),
      applyPostprocess(probs, 5, 3, 4, NO_POSTPROCESS),
    );
  });
  it('rejects probabilities whose length is not d × h × w', () => {
    assert.throws(() => applyPostprocess(probs, 5, 4, 4, NO_POSTPROCESS), RangeError);
  });
});

describe('postprocessMask on a large volume', () => {
  it('runs on 256 slices of 256×256 within a 64 MB JavaScript heap (typed arrays only, no JS array per voxel)', () => {
    // 16.7 M voxels: a JS array of them alone would take over 130 MB of heap; typed arrays live outside it.
    const child = runModule(
      `import { postprocessMask } from ${JSON.stringify(moduleUrl('src/postprocess/apply.ts'))};
      const d = 256, h = 256, w = 256;
      const mask = new Uint8Array(d * h * w);
      for (let z = 100; z < 120; z++)
        for (let y = 50; y < 70; y++) mask.fill(7, (z * h + y) * w + 60, (z * h + y) * w + 80);
      mask[5] = 1; // a one-voxel speck elsewhere
      const sums = [];
      for (const [minComponentArea, largest3DComponent] of [[0, false], [0, true], [10, true]]) {
        const out = postprocessMask(mask, d, h, w, { minComponentArea, largest3DComponent });
        let sum = 0;
        for (let i = 0; i < out.length; i++) sum += out[i];
        sums.push(sum);
      }
      console.log(JSON.stringify(sums));`,
      { heapMb: 64 },
    );
    assert.equal(child.status, 0, child.stderr.slice(0, 500));
    assert.deepEqual(JSON.parse(child.stdout), [8001, 8000, 8000]);
  });
});
