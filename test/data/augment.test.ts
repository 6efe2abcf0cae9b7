// Augmentation: image and mask move together, masks stay binary, draws stay in their ranges, and a seed repeats
// the batch exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AugmentConfig,
  type AugmentParams,
  adjustIntensity,
  augmentBatch,
  DEFAULT_AUGMENT,
  drawAugmentParams,
  IDENTITY_PARAMS,
  substituteMissingSequences,
  warpBatch,
} from '../../src/data/augment.ts';
import { assembleBatch } from '../../src/data/batch.ts';
import { BUDA_VOLUME_ZSCORE, RESCALE_256 } from '../../src/data/preprocess.ts';
import { mulberry32 } from '../../src/data/random.ts';
import type { SliceCache } from '../../src/data/slice-cache.ts';
import { type Tensor, tensor, tidy } from '../../src/engine/index.ts';

const W = 32;

/** A mask with an off-centre L shape, and an image whose every channel is that mask (0 or 1). */
function shapes(n: number): { images: Tensor; masks: Tensor; mask: Float32Array } {
  const mask = new Float32Array(W * W);
  for (let y = 4; y < 20; y++) for (let x = 6; x < 11; x++) mask[y * W + x] = 1;
  for (let y = 15; y < 20; y++) for (let x = 11; x < 24; x++) mask[y * W + x] = 1;
  const masks = new Float32Array(n * W * W);
  for (let i = 0; i < n; i++) masks.set(mask, i * W * W);
  const m = tensor(masks, [n, 1, W, W]);
  return { images: m.repeat(1, 3, 1, 1), masks: m, mask };
}

function agreement(images: Tensor, masks: Tensor): number {
  const img = images.narrow(1, 0, 1).data() as Float32Array;
  const m = masks.data() as Float32Array;
  let same = 0;
  for (let i = 0; i < m.length; i++) if (img[i]! > 0.5 === m[i]! > 0.5) same++;
  return same / m.length;
}

test('a horizontal flip mirrors image and mask exactly', () => {
  tidy(() => {
    const { images, masks } = shapes(1);
    const out = augmentBatch(images, masks, [{ ...IDENTITY_PARAMS, flipX: true }]);
    assert.deepEqual(out.masks!.data(), masks.flip(3).data());
    assert.deepEqual(out.images.data(), images.flip(3).data());
  });
});

test('identity parameters leave the batch unchanged', () => {
  tidy(() => {
    const { images, masks } = shapes(2);
    const out = augmentBatch(images, masks, [IDENTITY_PARAMS, IDENTITY_PARAMS]);
    const a = out.images.data() as Float32Array;
    const b = images.data() as Float32Array;
    assert.ok(a.every((v, i) => Math.abs(v - b[i]!) < 1e-5));
    assert.deepEqual(out.masks!.data(), masks.data());
  });
});

test('a 90° rotation moves image and mask to the same, new place', () => {
  tidy(() => {
    const { images, masks, mask } = shapes(1);
    const out = augmentBatch(images, masks, [{ ...IDENTITY_PARAMS, degrees: 90 }]);
    const m = out.masks!.data() as Float32Array;
    assert.equal(agreement(out.images, out.masks!), 1);
    const moved = m.reduce((a, v, i) => a + (v !== mask[i] ? 1 : 0), 0);
    assert.ok(moved > 50, `${moved} pixels changed`);
    assert.equal(
      m.reduce((a, b) => a + b, 0),
      mask.reduce((a, b) => a + b, 0),
      'a quarter turn keeps the area',
    );
  });
});

test('rotation, scale and elastic warps keep image and mask aligned and the mask binary', () => {
  const config: AugmentConfig = {
    ...DEFAULT_AUGMENT,
    brightness: 0,
    contrast: 0,
    elastic: { probability: 1, sigmaPixels: 2, controlPoints: 4 },
  };
  tidy(() => {
    const { images, masks, mask } = shapes(8);
    const rng = mulberry32(3);
    const params = Array.from({ length: 8 }, () => drawAugmentParams(config, rng));
    assert.ok(params.every((p) => p.elastic?.length === 32));
    const out = augmentBatch(images, masks, params);
    const m = out.masks!.data() as Float32Array;
    assert.ok(m.every((v) => v === 0 || v === 1));
    assert.ok(agreement(out.images, out.masks!) > 0.98, `agreement ${agreement(out.images, out.masks!)}`);
    const first = m.subarray(0, W * W);
    assert.ok(
      first.some((v, i) => v !== mask[i]),
      'the warp changed something',
    );
  });
});

test('brightness and contrast change the image, never the mask', () => {
  tidy(() => {
    const { images, masks } = shapes(1);
    const p: AugmentParams = { ...IDENTITY_PARAMS, brightness: 0.2, contrast: 1.5 };
    const out = augmentBatch(images, masks, [p]);
    assert.deepEqual(out.masks!.data(), masks.data());
    const meanIn = images.mean().item();
    assert.ok(Math.abs(out.images.mean().item() - (meanIn + 0.2)) < 1e-5);
    assert.ok(out.images.amax().item() > 1.2);
  });
});

test('draws stay within the configured ranges', () => {
  const rng = mulberry32(9);
  const draws = Array.from({ length: 2000 }, () => drawAugmentParams(DEFAULT_AUGMENT, rng));
  assert.ok(draws.every((p) => Math.abs(p.degrees) <= 15 && p.scale >= 0.9 && p.scale <= 1.1));
  assert.ok(draws.every((p) => Math.abs(p.brightness) <= 0.1 && Math.abs(p.contrast - 1) <= 0.1));
  assert.ok(draws.every((p) => !p.flipY && p.elastic === undefined));
  const flips = draws.filter((p) => p.flipX).length / draws.length;
  assert.ok(Math.abs(flips - 0.5) < 0.05, `flip rate ${flips}`);
});

test('an augmented batch repeats exactly for a seed and differs for another', () => {
  const w = 16;
  const rng = mulberry32(0);
  const cache: SliceCache = {
    width: w,
    height: w,
    count: 4,
    images: Uint8Array.from({ length: 4 * w * w * 3 }, () => rng.int(256)),
    masks: Uint8Array.from({ length: 4 * w * w }, (_, i) => (i % 37 < 9 ? 1 : 0)),
    slices: [],
    tumourPixels: new Uint32Array(4).fill(1),
    patients: ['A'],
    patientIndex: new Uint32Array(4),
    notes: [],
    problems: [],
  };
  const config = { ...DEFAULT_AUGMENT, elastic: { probability: 0.5, sigmaPixels: 1, controlPoints: 3 } };
  const run = (seed: number) =>
    tidy(() => {
      const b = assembleBatch(cache, [0, 1, 2, 3], {
        preprocess: { ...RESCALE_256, width: w, height: w },
        augment: config,
        rng: mulberry32(seed),
      });
      return [b.images.data(), b.masks!.data()];
    });
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5)[0], run(6)[0]);
});

test('batch assembly (intensity folded into one affine map) equals warp, preprocess, then brightness/contrast', () => {
  const w = 16;
  const rng = mulberry32(8);
  const cache: SliceCache = {
    width: w,
    height: w,
    count: 3,
    images: Uint8Array.from({ length: 3 * w * w * 3 }, () => rng.int(256)),
    masks: new Uint8Array(3 * w * w),
    slices: [],
    tumourPixels: new Uint32Array(3),
    patients: ['A', 'B'],
    patientIndex: Uint32Array.from([0, 1, 1]),
    notes: [],
    problems: [],
  };
  const config = { ...DEFAULT_AUGMENT, brightness: 0.3, contrast: 0.4 };
  const stats = [
    {
      low: 10,
      high: 200,
      mean: [80, 90, 100] as [number, number, number],
      std: [30, 40, 50] as [number, number, number],
    },
    {
      low: 0,
      high: 250,
      mean: [120, 110, 100] as [number, number, number],
      std: [60, 50, 40] as [number, number, number],
    },
  ];
  for (const intensity of [{ kind: 'rescale' as const }, BUDA_VOLUME_ZSCORE]) {
    tidy(() => {
      const preprocess = { ...RESCALE_256, width: w, height: w, intensity };
      const fused = assembleBatch(cache, [0, 1, 2], {
        preprocess,
        augment: config,
        rng: mulberry32(4),
        volumeStats: stats,
      });
      const draws = mulberry32(4);
      const params = [0, 1, 2].map(() => drawAugmentParams(config, draws));
      let x = tensor(cache.images, [3, w, w, 3]).permute(0, 3, 1, 2).float();
      x = warpBatch(x, undefined, params).images;
      if (intensity.kind === 'rescale') x = x.div(255);
      else {
        const per = [stats[0]!, stats[1]!, stats[1]!];
        const col = (f: (s: (typeof per)[number]) => number[]) =>
          tensor(Float32Array.from(per.flatMap(f)), [3, f(per[0]!).length, 1, 1]);
        x = x
          .maximum(col((s) => [s.low]))
          .minimum(col((s) => [s.high]))
          .sub(col((s) => s.mean))
          .div(col((s) => s.std));
      }
      x = adjustIntensity(x, params);
      const a = fused.images.data() as Float32Array;
      const b = x.data() as Float32Array;
      const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      assert.ok(worst < 1e-4, `${intensity.kind}: max difference ${worst}`);
    });
  }
});

test('missing sequences: FLAIR replaces pre-contrast, post-contrast or both, on raw bytes, as drawn', () => {
  const px = 4;
  const slices = 4;
  const bytes = Uint8Array.from({ length: slices * px * 3 }, (_, i) => i % 251);
  const original = bytes.slice();
  const kinds = [undefined, 'pre', 'post', 'both'] as const;
  substituteMissingSequences(
    bytes,
    kinds.map((missing) => (missing ? { ...IDENTITY_PARAMS, missing } : IDENTITY_PARAMS)),
  );
  kinds.forEach((missing, k) => {
    for (let p = 0; p < px; p++) {
      const i = (k * px + p) * 3;
      const flair = original[i + 1]!;
      assert.equal(bytes[i + 1], flair);
      assert.equal(bytes[i], missing === 'pre' || missing === 'both' ? flair : original[i]);
      assert.equal(bytes[i + 2], missing === 'post' || missing === 'both' ? flair : original[i + 2]);
    }
  });
});

test('missing sequences: drawn only when asked for, so other runs keep their random streams', () => {
  const draw = (config: AugmentConfig, seed: number) => {
    const rng = mulberry32(seed);
    return Array.from({ length: 200 }, () => drawAugmentParams(config, rng));
  };
  assert.deepEqual(draw({ ...DEFAULT_AUGMENT, missingSequences: 0 }, 3), draw(DEFAULT_AUGMENT, 3));
  const always = draw({ ...DEFAULT_AUGMENT, missingSequences: 1 }, 3);
  assert.deepEqual(new Set(always.map((p) => p.missing)), new Set(['pre', 'post', 'both']));
  const some = draw({ ...DEFAULT_AUGMENT, missingSequences: 0.25 }, 3).filter((p) => p.missing).length;
  assert.ok(some > 20 && some < 80, `${some} of 200 slices with missing sequences at p = 0.25`);
});

test('missing sequences reach the batch: the substituted channels equal FLAIR after preprocessing', () => {
  const w = 8;
  const rng = mulberry32(1);
  const cache: SliceCache = {
    width: w,
    height: w,
    count: 6,
    images: Uint8Array.from({ length: 6 * w * w * 3 }, () => rng.int(256)),
    masks: new Uint8Array(6 * w * w),
    slices: [],
    tumourPixels: new Uint32Array(6),
    patients: ['A'],
    patientIndex: new Uint32Array(6),
    notes: [],
    problems: [],
  };
  const noGeometry: AugmentConfig = {
    flipHorizontal: 0,
    flipVertical: 0,
    rotateDegrees: 0,
    scale: 0,
    brightness: 0,
    contrast: 0,
    missingSequences: 1,
  };
  tidy(() => {
    const batch = assembleBatch(cache, [0, 1, 2, 3, 4, 5], {
      preprocess: { ...RESCALE_256, width: w, height: w },
      augment: noGeometry,
      rng: mulberry32(2),
    });
    const drawn = mulberry32(2);
    const kinds = Array.from({ length: 6 }, () => drawAugmentParams(noGeometry, drawn).missing);
    const x = batch.images.data() as Float32Array;
    const plane = w * w;
    kinds.forEach((missing, k) => {
      const channel = (c: number) => x.subarray((3 * k + c) * plane, (3 * k + c + 1) * plane);
      const flair = Array.from(channel(1));
      assert.equal(Array.from(channel(0)).join() === flair.join(), missing !== 'post', `slice ${k} pre`);
      assert.equal(Array.from(channel(2)).join() === flair.join(), missing !== 'pre', `slice ${k} post`);
    });
  });
});
