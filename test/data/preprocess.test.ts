// Preprocessing: the percentile arithmetic against a sort, Buda et al.'s per-volume normalisation against a
// direct computation, the config's round trip, batches (tensor path) against the per-slice reference, and 2.5-D
// input (neighbouring slices as channels) alike from a batch, the cache and a lone volume.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assembleBatch, cacheVolumeStats } from '../../src/data/batch.ts';
import { quantile } from '../../src/data/dataset-summary.ts';
import {
  BUDA_VOLUME_ZSCORE,
  histogramPercentile,
  inputChannels,
  neighbourSlice,
  type PreprocessConfig,
  parsePreprocessConfig,
  preprocessSlice,
  preprocessSlices,
  RESCALE_256,
  sliceOffsets,
  volumeStats,
} from '../../src/data/preprocess.ts';
import { mulberry32 } from '../../src/data/random.ts';
import type { SliceCache } from '../../src/data/slice-cache.ts';
import { tidy } from '../../src/engine/index.ts';

function randomBytes(n: number, seed: number, max = 256): Uint8Array {
  const rng = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => rng.int(max));
}

/** A cache of `perPatient` slices for each of two patients, w × w, with random pixels and a mask box. */
function fakeCache(w: number, perPatient: number): SliceCache {
  const count = 2 * perPatient;
  const images = randomBytes(count * w * w * 3, 5);
  // The second patient is darker, so per-volume statistics differ.
  for (let i = perPatient * w * w * 3; i < images.length; i++) images[i] = images[i]! >> 1;
  const masks = new Uint8Array(count * w * w);
  masks[w * w + w + 1] = 1; // one tumour pixel on slice 1
  return {
    width: w,
    height: w,
    count,
    images,
    masks,
    slices: [],
    tumourPixels: Uint32Array.from({ length: count }, (_, i) => (i === 1 ? 1 : 0)),
    patients: ['A', 'B'],
    patientIndex: Uint32Array.from({ length: count }, (_, i) => (i < perPatient ? 0 : 1)),
    notes: [],
    problems: [],
  };
}

test('histogram percentiles equal numpy-style percentiles of the sorted values', () => {
  const values = randomBytes(1001, 1, 200);
  const histogram = new Float64Array(256);
  for (const v of values) histogram[v]!++;
  const sorted = [...values].sort((a, b) => a - b);
  for (const p of [0, 1, 10, 37.5, 50, 99, 100]) {
    assert.ok(
      Math.abs(histogramPercentile(histogram, values.length, p) - quantile(sorted, p / 100)) < 1e-9,
      `p${p}`,
    );
  }
});

test('volume statistics: clip to the volume 10th–99th percentiles, then mean and std per channel', () => {
  const volume = randomBytes(3 * 500, 2);
  const stats = volumeStats(volume, BUDA_VOLUME_ZSCORE);
  const sorted = [...volume].sort((a, b) => a - b);
  assert.equal(stats.low, quantile(sorted, 0.1));
  assert.equal(stats.high, quantile(sorted, 0.99));
  for (let c = 0; c < 3; c++) {
    const xs = [...volume]
      .filter((_, i) => i % 3 === c)
      .map((v) => Math.min(Math.max(v, stats.low), stats.high));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    assert.ok(Math.abs(stats.mean[c]! - mean) < 1e-9);
    assert.ok(Math.abs(stats.std[c]! - std) < 1e-9);
  }
  const slice = preprocessSlice(volume, BUDA_VOLUME_ZSCORE, stats);
  const n = 500;
  const ch1 = slice.subarray(n, 2 * n);
  const mean1 = ch1.reduce((a, b) => a + b, 0) / n;
  assert.ok(Math.abs(mean1) < 1e-5, 'each channel has mean 0 over the volume');
  const flat = volumeStats(new Uint8Array(30).fill(7), BUDA_VOLUME_ZSCORE);
  assert.deepEqual(flat.std, [1, 1, 1], 'a flat volume does not divide by zero');
});

test('the preprocessing config is plain JSON that round-trips; a wrong one is refused', () => {
  const config: PreprocessConfig = { ...RESCALE_256, width: 128, height: 128, intensity: BUDA_VOLUME_ZSCORE };
  assert.deepEqual(parsePreprocessConfig(JSON.parse(JSON.stringify(config))), config);
  assert.throws(() => parsePreprocessConfig({ ...config, intensity: { kind: 'volume-zscore' } }));
  assert.throws(() => parsePreprocessConfig({ ...config, width: 0 }));
});

test('rescale batches are bytes / 255 in NCHW, with masks and labels', () => {
  const cache = fakeCache(8, 2);
  tidy(() => {
    const batch = assembleBatch(cache, [1, 3], { preprocess: { ...RESCALE_256, width: 8, height: 8 } });
    assert.deepEqual(batch.images.shape, [2, 3, 8, 8]);
    const x = batch.images.data() as Float32Array;
    const expected = preprocessSlice(cache.images.subarray(1 * 192, 2 * 192), { kind: 'rescale' });
    // Bit for bit: inference preprocesses per slice, training in batches, and the network must see the same.
    assert.deepEqual(x.subarray(0, 192), expected);
    assert.deepEqual([...(batch.labels!.data() as BigInt64Array)], [1n, 0n]);
    assert.equal((batch.masks!.data() as Float32Array)[9], 1);
  });
});

test('rescale with a per-channel mean and std (ImageNet weights) equals the per-slice reference', () => {
  const cache = fakeCache(8, 2);
  const intensity = { kind: 'rescale' as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  tidy(() => {
    const batch = assembleBatch(cache, [1], {
      preprocess: { ...RESCALE_256, width: 8, height: 8, intensity },
    });
    const x = batch.images.data() as Float32Array;
    const expected = preprocessSlice(cache.images.subarray(192, 2 * 192), intensity);
    assert.deepEqual(x, expected);
    assert.ok(
      Math.abs(expected[0]! - (cache.images[192]! / 255 - 0.485) / 0.229) < 1e-6,
      'channel 0 uses mean[0]/std[0]',
    );
  });
  assert.throws(() =>
    parsePreprocessConfig({ ...RESCALE_256, intensity: { kind: 'rescale', std: [1, 0, 1] } }),
  );
});

test('volume-zscore batches equal the per-slice reference with each patient’s own statistics', () => {
  const cache = fakeCache(8, 3);
  const preprocess: PreprocessConfig = { ...RESCALE_256, width: 8, height: 8, intensity: BUDA_VOLUME_ZSCORE };
  const stats = cacheVolumeStats(cache, preprocess)!;
  assert.equal(stats.length, 2);
  assert.ok(stats[1]!.mean[0]! < stats[0]!.mean[0]!);
  tidy(() => {
    const batch = assembleBatch(cache, [0, 4], { preprocess, volumeStats: stats });
    const x = batch.images.data() as Float32Array;
    [0, 4].forEach((slice, k) => {
      const patient = slice < 3 ? 0 : 1;
      const ref = preprocessSlice(
        cache.images.subarray(slice * 192, (slice + 1) * 192),
        BUDA_VOLUME_ZSCORE,
        stats[patient],
      );
      assert.deepEqual(x.subarray(k * 192, (k + 1) * 192), ref, `slice ${slice}`);
    });
  });
  assert.throws(() => tidy(() => assembleBatch(cache, [0], { preprocess })), /volumeStats/);
});

test('2.5-D neighbours stay inside their volume; at its ends the last slice there stands in', () => {
  const volumeOf = (i: number) => (i < 3 ? 0 : 1);
  assert.deepEqual(
    [-2, -1, 0, 1, 2].map((d) => neighbourSlice(1, d, 6, volumeOf)),
    [0, 0, 1, 2, 2],
  );
  assert.deepEqual(
    [-1, 1].map((d) => neighbourSlice(3, d, 6, volumeOf)),
    [3, 4],
  );
  assert.deepEqual(
    [-1, 1].map((d) => neighbourSlice(5, d, 6)),
    [4, 5],
  );
  assert.equal(inputChannels({ ...RESCALE_256, neighbours: 2 }), 15);
  assert.deepEqual(sliceOffsets({ ...RESCALE_256, neighbours: 1 }), [-1, 0, 1]);
  assert.throws(() => parsePreprocessConfig({ ...RESCALE_256, neighbours: 1.5 }));
});

test('2.5-D input: each slice with its neighbours as channels, the same from a batch, the cache and a volume', () => {
  const cache = fakeCache(8, 3);
  const plane = 8 * 8 * 3;
  for (const intensity of [RESCALE_256.intensity, BUDA_VOLUME_ZSCORE]) {
    const preprocess: PreprocessConfig = { ...RESCALE_256, width: 8, height: 8, intensity, neighbours: 1 };
    const stats = cacheVolumeStats(cache, preprocess);
    const statsOf = (i: number) => stats?.[cache.patientIndex[i]!];
    const slice = (i: number) =>
      preprocessSlice(cache.images.subarray(i * plane, (i + 1) * plane), intensity, statsOf(i));
    // Slice 2 is the first patient's last, slice 3 the second's first: neither sees the other patient.
    const expected = [1, 2, 2, 3, 3, 4].map(slice);
    const fromCache = preprocessSlices(
      cache.images,
      [2, 3],
      preprocess,
      statsOf,
      (i) => cache.patientIndex[i]!,
    );
    assert.equal(fromCache.length, 2 * 9 * 64);
    expected.forEach((block, q) => {
      assert.deepEqual(fromCache.subarray(q * plane, (q + 1) * plane), block, `${intensity.kind} block ${q}`);
    });
    // The second patient's volume alone, as predict and serve hold it: slice 0 there is cache slice 3.
    const volume = cache.images.subarray(3 * plane, 6 * plane);
    const fromVolume = preprocessSlices(volume, [0], preprocess, () => statsOf(3));
    assert.deepEqual(fromVolume, fromCache.subarray(9 * 64));
    tidy(() => {
      const batch = assembleBatch(cache, [2, 3], { preprocess, volumeStats: stats });
      assert.deepEqual(batch.images.shape, [2, 9, 8, 8]);
      assert.deepEqual(batch.images.data(), fromCache);
    });
  }
});

test('2.5-D batches: the same missing sequences and the same warp in every stacked slice', () => {
  const cache = fakeCache(8, 3);
  const preprocess: PreprocessConfig = { ...RESCALE_256, width: 8, height: 8, neighbours: 1 };
  const augment = {
    flipHorizontal: 0.5,
    flipVertical: 0.5,
    rotateDegrees: 30,
    scale: 0,
    brightness: 0,
    contrast: 0,
    missingSequences: 1,
  };
  tidy(() => {
    const batch = assembleBatch(cache, [0, 1, 4], { preprocess, augment, rng: mulberry32(9) });
    const flat = { ...preprocess, neighbours: 0 };
    const alone = assembleBatch(cache, [0, 1, 4], { preprocess: flat, augment, rng: mulberry32(9) });
    const x = batch.images.data() as Float32Array;
    const y = alone.images.data() as Float32Array;
    const px = 64;
    for (let k = 0; k < 3; k++) {
      // The middle block is the slice as a one-slice batch with the same draws sees it.
      assert.deepEqual(
        x.subarray((k * 9 + 3) * px, (k * 9 + 6) * px),
        y.subarray(k * 3 * px, (k + 1) * 3 * px),
      );
      // Every slice lost at least one sequence to FLAIR, the same one(s) in all three stacked slices.
      const replaced = (q: number, ch: number) => {
        const at = (k * 9 + q * 3) * px;
        return x.subarray(at + ch * px, at + (ch + 1) * px).every((v, i) => v === x[at + px + i]);
      };
      const pattern = (q: number) => [replaced(q, 0), replaced(q, 2)].join();
      assert.notEqual(pattern(1), 'false,false', `slice ${k} kept every sequence`);
      assert.equal(pattern(0), pattern(1));
      assert.equal(pattern(2), pattern(1));
    }
  });
});
