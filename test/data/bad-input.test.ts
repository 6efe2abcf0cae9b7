// Bad input becomes a clear error naming the file and the problem, or, with skipBadFiles, one warning per file
// and a count. Every bad file here is made by the test.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { scanDataset } from '../../src/data/dataset-index.ts';
import {
  BadEntryError,
  DataError,
  EmptyDatasetError,
  ImageDecodeError,
  ImageTooLargeError,
  MaskSizeMismatchError,
  MaskValuesError,
  MetadataError,
  TooManySlicesError,
  UnpairedFileError,
  UnsupportedImageError,
} from '../../src/data/errors.ts';
import { binariseMask, binariseMaskInto } from '../../src/data/image.ts';
import { mulberry32 } from '../../src/data/random.ts';
import { decodeImageBytes, readImage, readTiff } from '../../src/data/read-image.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import { MAX_SLICES_PER_PATIENT } from '../../src/data/slice-names.ts';
import { moduleUrl, runModule } from '../helpers/child-process.ts';
import {
  boxMask,
  encodeTiff,
  pattern,
  pngBomb,
  tempDir,
  tiffBomb,
  writeKaggleFolder,
  writePng,
  writeTiff,
} from './fixtures.ts';

const P = 'TCGA_CS_0001_20000101';

function assertNames(err: unknown, type: new (...args: never[]) => Error, ...needles: (string | RegExp)[]) {
  assert.ok(err instanceof type, `expected ${type.name}, got ${err}`);
  assert.ok(err instanceof DataError);
  for (const needle of needles) {
    if (typeof needle === 'string')
      assert.ok(err.message.includes(needle), `"${err.message}" names ${needle}`);
    else assert.match(err.message, needle);
  }
  return true;
}

test('a truncated TIFF is an ImageDecodeError naming the file and "truncated"', (t) => {
  const dir = tempDir(t);
  const whole = encodeTiff({ width: 16, height: 16, channels: 3, samples: pattern(768), rowsPerStrip: 4 });
  // Keep the header and IFD (written after the strips) but drop the strips' second half.
  const cut = Uint8Array.from(whole);
  const path = join(dir, 'cut.tif');
  writeFileSync(path, cut.subarray(0, 300));
  assert.throws(
    () => readTiff(path),
    (e) => assertNames(e, ImageDecodeError, path, /truncated|corrupt/),
  );
  // A TIFF whose strip offsets point past the end of the file (IFD intact).
  const view = new DataView(cut.buffer);
  const ifd = view.getUint32(4, true);
  const entries = view.getUint16(ifd, true);
  for (let i = 0; i < entries; i++) {
    if (view.getUint16(ifd + 2 + i * 12, true) === 273) {
      const at = view.getUint32(ifd + 2 + i * 12 + 8, true);
      view.setUint32(at + 12, whole.length + 1000, true); // the 4th strip
    }
  }
  const far = join(dir, 'far.tif');
  writeFileSync(far, cut);
  assert.throws(
    () => readTiff(far),
    (e) => assertNames(e, ImageDecodeError, far, 'truncated TIFF: strip 4 of 4'),
  );
});

test('a corrupt TIFF (garbage IFD) and a non-image named .tif are ImageDecodeErrors', async (t) => {
  const dir = tempDir(t);
  const garbage = join(dir, 'garbage.tif');
  const bytes = new Uint8Array(64).fill(0xee);
  bytes.set([0x49, 0x49, 42, 0, 200, 0, 0, 0]); // IFD offset beyond the file
  writeFileSync(garbage, bytes);
  await assert.rejects(readImage(garbage), (e) => assertNames(e, ImageDecodeError, garbage));
  const text = join(dir, 'notes.tif');
  writeFileSync(text, 'patient notes, not a slice\n');
  await assert.rejects(readImage(text), (e) => assertNames(e, ImageDecodeError, text, 'not an image'));
  const empty = join(dir, 'empty.png');
  writeFileSync(empty, '');
  await assert.rejects(readImage(empty), (e) => assertNames(e, ImageDecodeError, empty, 'empty file'));
});

test('a truncated PNG is an ImageDecodeError naming the file', async (t) => {
  const dir = tempDir(t);
  const good = await writePng(join(dir, 'good.png'), 32, 32, 3, pattern(32 * 32 * 3));
  const bad = join(dir, 'bad.png');
  const bytes = readFileSync(good);
  writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(readImage(bad), (e) => assertNames(e, ImageDecodeError, bad, 'corrupt PNG'));
});

test('a mask without its image, and an image without its mask, name the file and the one missing', (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 3 }]);
  const image2 = join(root, P, `${P}_2.tif`);
  rmSync(image2);
  assert.throws(
    () => scanDataset(root),
    (e) => assertNames(e, UnpairedFileError, `${P}_2_mask.tif`, 'mask has no image', `${P}_2.tif`),
  );
  writeTiff(image2, { width: 16, height: 16, channels: 3, samples: pattern(768) });
  rmSync(join(root, P, `${P}_3_mask.tif`));
  assert.throws(
    () => scanDataset(root),
    (e) => assertNames(e, UnpairedFileError, `${P}_3.tif`, 'image has no mask', `${P}_3_mask.tif`),
  );
});

test('a mask whose size differs from its image names both files and both sizes', async (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 2 }]);
  const mask = join(root, P, `${P}_2_mask.tif`);
  writeTiff(mask, { width: 8, height: 16, channels: 1, samples: boxMask(8, 16) });
  await assert.rejects(loadSlices(scanDataset(root), { width: 16 }), (e) =>
    assertNames(e, MaskSizeMismatchError, mask, `${P}_2.tif`, '8×16', '16×16'),
  );
});

test('a mask of other values than 0/1 or 0/255 is a MaskValuesError naming the file and the values', () => {
  const label = (data: number[]) => ({
    width: 4,
    height: 2,
    channels: 1 as const,
    sourceBits: 8,
    data: Uint8Array.from(data),
  });
  const cases: Array<[number[], string]> = [
    [[0, 1, 3, 0, 1, 1, 0, 3], '0, 1, 3'], // a label map: thresholding at 128 would erase every label
    [[0, 255, 250, 3, 0, 255, 0, 0], '0, 3, 250, 255'], // noise, as a JPEG's
    [[0, 1, 255, 0, 0, 0, 0, 0], '0, 1, 255'], // 0/1 and 0/255 mixed
    [[0, 128, 128, 0, 0, 0, 0, 0], '0, 128'],
  ];
  for (const [values, named] of cases) {
    // Both paths: four pixels at a time (8 pixels) and pixel by pixel (7).
    assert.throws(
      () => binariseMaskInto(label(values), new Uint8Array(8), 'x_mask.tif'),
      (e) => assertNames(e, MaskValuesError, 'x_mask.tif', `values ${named};`, '0 and 1, or 0 and 255'),
    );
    const odd = { ...label(values), width: 7, height: 1, data: Uint8Array.from(values.slice(0, 7)) };
    assert.throws(() => binariseMask(odd, 'odd_mask.tif'), MaskValuesError);
  }
  const many = Uint8Array.from({ length: 16 }, (_, i) => i * 16);
  assert.throws(
    () => binariseMask({ width: 4, height: 4, channels: 1, sourceBits: 8, data: many }, 'grey_mask.tif'),
    (e) => assertNames(e, MaskValuesError, '0, 16, 32, 48, 64, 80, 96, 112, … (16 values)'),
  );
});

test('loading refuses a label-map mask, or skips it with skipBadFiles', async (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 3, tumour: [1] }]);
  const labels = join(root, P, `${P}_2_mask.tif`);
  writeTiff(labels, { width: 16, height: 16, channels: 1, samples: boxMask(16, 16, [2, 2, 8, 8], 3) });
  await assert.rejects(loadSlices(scanDataset(root), { width: 16 }), (e) =>
    assertNames(e, MaskValuesError, labels, 'values 0, 3;'),
  );
  const warnings: string[] = [];
  const cache = await loadSlices(scanDataset(root), {
    width: 8,
    skipBadFiles: true,
    warn: (m) => warnings.push(m),
  });
  assert.deepEqual(
    cache.slices.map((s) => s.sliceNumber),
    [1, 3],
  );
  assert.deepEqual(
    cache.problems.map((p) => [p.code, p.file]),
    [['mask-values', labels]],
  );
  assert.equal(warnings.length, 1);
});

test('a symbolic-link loop is a BadEntryError naming the link, or skipped with skipBadFiles', (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 2 }]);
  const [a, b] = [join(root, P, `${P}_3.tif`), join(root, P, `${P}_3_mask.tif`)];
  symlinkSync(b, a);
  symlinkSync(a, b);
  assert.throws(
    () => scanDataset(root),
    (e) => assertNames(e, BadEntryError, a, 'symbolic link that leads in a loop'),
  );
  const warnings: string[] = [];
  const index = scanDataset(root, { skipBadFiles: true, warn: (m) => warnings.push(m) });
  assert.deepEqual(
    index.patients[0]!.slices.map((s) => s.sliceNumber),
    [1, 2],
  );
  assert.deepEqual(index.problems.map((p) => [p.code, p.file]).sort(), [
    ['bad-entry', a],
    ['bad-entry', b],
  ]);
  assert.equal(warnings.length, 2);
});

test('a folder named like a slice is a BadEntryError naming it, not a mask without its image', (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 3 }]);
  const image = join(root, P, `${P}_3.tif`);
  rmSync(image);
  mkdirSync(image);
  assert.throws(
    () => scanDataset(root),
    (e) => assertNames(e, BadEntryError, image, 'is a folder, not an image file'),
  );
  const index = scanDataset(root, { skipBadFiles: true, warn: () => {} });
  assert.deepEqual(
    index.patients[0]!.slices.map((s) => s.sliceNumber),
    [1, 2],
  );
  assert.deepEqual(
    index.problems.map((p) => p.code),
    ['bad-entry', 'mask-without-image'],
  );
});

test('a patient of more slices than one may have is a TooManySlicesError naming its folder, from the names alone', (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 2 }]);
  // Named like slices but never decoded: a scan that read them would fail on their bytes instead.
  const tall = join(root, 'TCGA_CS_0002_20000101');
  mkdirSync(tall);
  for (let n = 1; n <= MAX_SLICES_PER_PATIENT + 1; n++) {
    writeFileSync(join(tall, `TCGA_CS_0002_20000101_${n}.tif`), 'not read');
    writeFileSync(join(tall, `TCGA_CS_0002_20000101_${n}_mask.tif`), 'not read');
  }
  writeFileSync(join(root, 'data.csv'), 'Patient,age\nTCGA_CS_0001,40\nTCGA_CS_0002,41\n');
  assert.throws(
    () => scanDataset(root),
    (e) =>
      assertNames(
        e,
        TooManySlicesError,
        `${tall}: patient TCGA_CS_0002_20000101 has 257 slices, more than the 256 one patient may have`,
      ),
  );
  const warnings: string[] = [];
  const index = scanDataset(root, { skipBadFiles: true, warn: (m) => warnings.push(m) });
  assert.deepEqual(
    index.patients.map((p) => p.id),
    [P],
  );
  assert.deepEqual(warnings, [
    `skipping: ${tall}: patient TCGA_CS_0002_20000101 has 257 slices, more than the 256 one patient may have`,
  ]);
  // At the limit, a patient is taken.
  rmSync(join(tall, 'TCGA_CS_0002_20000101_1.tif'));
  rmSync(join(tall, 'TCGA_CS_0002_20000101_1_mask.tif'));
  assert.equal(scanDataset(root).patients[1]!.slices.length, MAX_SLICES_PER_PATIENT);
});

test('an empty folder, a missing path and a folder of non-images are EmptyDatasetErrors', (t) => {
  const dir = tempDir(t);
  assert.throws(
    () => scanDataset(dir),
    (e) => assertNames(e, EmptyDatasetError, dir, 'no slice images'),
  );
  mkdirSync(join(dir, 'TCGA_CS_0002_20000101'));
  writeFileSync(join(dir, 'TCGA_CS_0002_20000101', 'readme.txt'), 'x');
  assert.throws(
    () => scanDataset(dir),
    (e) => assertNames(e, EmptyDatasetError, dir),
  );
  assert.throws(
    () => scanDataset(join(dir, 'nope')),
    (e) => assertNames(e, EmptyDatasetError, 'no such file'),
  );
  assert.throws(() => scanDataset([]), EmptyDatasetError);
});

test('a kaggle_3m folder without data.csv is a MetadataError unless metadata is optional', (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 1 }], false);
  assert.throws(
    () => scanDataset(root),
    (e) => assertNames(e, MetadataError, join(root, 'data.csv'), 'not found'),
  );
  assert.equal(scanDataset(root, { requireMetadata: false }).patients.length, 1);
  writeFileSync(join(root, 'data.csv'), 'Name,Age\nx,1\n');
  assert.throws(
    () => scanDataset(root),
    (e) => assertNames(e, MetadataError, 'no "Patient" column'),
  );
});

test('a missing data.csv names the API options that go without it; skipping it warns without them', (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 1 }], false);
  assert.throws(
    () => scanDataset(root),
    (e) =>
      assertNames(
        e,
        MetadataError,
        'data.csv not found; pass skipBadFiles or requireMetadata: false to go without it',
      ),
  );
  const warnings: string[] = [];
  scanDataset(root, { skipBadFiles: true, warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, [`skipping: ${join(root, 'data.csv')}: data.csv not found`]);
});

test('a binary data.csv is refused as not text, and no raw bytes reach a message', (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 1 }], false);
  const csv = join(root, 'data.csv');
  writeFileSync(csv, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x1b, 0x5b, 0x32, 0x4a])); // a zip, ESC[2J
  assert.throws(
    () => scanDataset(root),
    (e) => assertNames(e, MetadataError, csv, 'not a CSV text file (a NUL byte at byte 5)'),
  );
  writeFileSync(csv, Buffer.from([0x4e, 0x61, 0x6d, 0x65, 0xff, 0xfe, 0x0a])); // Latin-1 or worse
  assert.throws(
    () => scanDataset(root),
    (e) => assertNames(e, MetadataError, 'not a CSV text file (not UTF-8)'),
  );
  writeFileSync(csv, `Na\u001b[2Jme,${'x'.repeat(100)}\nx,1\n`);
  assert.throws(
    () => scanDataset(root),
    (e) =>
      assertNames(e, MetadataError, /columns: Na\\u\{1b\}\[2Jme, x{70}…\)$/) &&
      [...(e as Error).message].every((ch) => ch >= ' '),
  );
});

test('a TIFF of several images is refused naming the count, or skipped; a thumbnail after the slice is not', async (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 2 }]);
  const stack = join(root, P, `${P}_2.tif`);
  writeTiff(stack, { width: 16, height: 16, channels: 3, samples: pattern(768), moreImages: [0] });
  assert.throws(
    () => readTiff(stack),
    (e) => assertNames(e, UnsupportedImageError, stack, 'holds 2 images; a slice file must hold one'),
  );
  const cache = await loadSlices(scanDataset(root), { width: 16, skipBadFiles: true, warn: () => {} });
  assert.deepEqual(
    cache.problems.map((p) => [p.code, p.file]),
    [['unsupported-image', stack]],
  );
  writeTiff(stack, { width: 16, height: 16, channels: 3, samples: pattern(768), moreImages: [1] });
  assert.deepEqual(readTiff(stack).data, pattern(768));
});

test('skipBadFiles: one warning per bad file, a count, and the good slices loaded', async (t) => {
  const root = writeKaggleFolder(tempDir(t), [
    { id: P, slices: 4, tumour: [1] },
    { id: 'TCGA_DU_0002_20000101', slices: 2 },
  ]);
  rmSync(join(root, 'data.csv'));
  rmSync(join(root, P, `${P}_4.tif`)); // mask without image
  const truncated = join(root, P, `${P}_2.tif`);
  writeFileSync(truncated, readFileSync(truncated).subarray(0, 100));
  const notImage = join(root, 'TCGA_DU_0002_20000101', 'TCGA_DU_0002_20000101_1_mask.tif');
  writeFileSync(notImage, 'oops');
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const index = scanDataset(root, { skipBadFiles: true, warn });
  const cache = await loadSlices(index, { width: 16, skipBadFiles: true, warn });
  assert.equal(cache.count, 3); // P_1, P_3, DU_2
  assert.deepEqual(
    cache.slices.map((s) => s.sliceNumber),
    [1, 3, 2],
  );
  assert.equal(cache.problems.length, 4);
  assert.equal(warnings.length, 4);
  assert.deepEqual(cache.problems.map((p) => p.code).sort(), [
    'mask-without-image',
    'missing-metadata',
    'unreadable-image',
    'unreadable-image',
  ]);
  assert.ok(warnings.some((w) => w.includes(truncated)));
  assert.ok(warnings.some((w) => w.includes(notImage)));
  assert.equal(cache.tumourPixels[0], 4); // slice 1's box: x 2..3, y 2..6
});

test('damaged TIFFs (random bytes changed or cut) either decode or fail with a DataError, never anything else', async (t) => {
  const dir = tempDir(t);
  const rng = mulberry32(11);
  const kinds = [
    encodeTiff({
      width: 12,
      height: 9,
      channels: 3,
      samples: pattern(324),
      rowsPerStrip: 4,
      padLastStrip: true,
    }),
    encodeTiff({
      width: 12,
      height: 9,
      channels: 1,
      samples: pattern(108),
      compression: 'deflate',
      rowsPerStrip: 3,
    }),
    encodeTiff({ width: 5, height: 4, channels: 1, bits: 16, samples: Uint16Array.from(pattern(20)) }),
  ];
  const path = join(dir, 'damaged.tif');
  let failures = 0;
  for (let trial = 0; trial < 300; trial++) {
    const bytes = Uint8Array.from(kinds[trial % kinds.length]!);
    for (let k = 0; k < 1 + rng.int(4); k++) bytes[rng.int(bytes.length)] = rng.int(256);
    const cut = rng.chance(0.3) ? bytes.subarray(0, rng.int(bytes.length)) : bytes;
    writeFileSync(path, cut);
    try {
      const image = await readImage(path);
      assert.equal(image.data.length, image.width * image.height * image.channels);
    } catch (err) {
      assert.ok(err instanceof DataError, `trial ${trial}: ${err}`);
      assert.ok(err.message.startsWith(path));
      failures++;
    }
  }
  assert.ok(failures > 30, `${failures} of 300 damaged files were refused`);
});

test('a slice removed between scanning and loading is a DataError naming it (or a skipped file)', async (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: P, slices: 3 }]);
  const index = scanDataset(root);
  const gone = join(root, P, `${P}_2.tif`);
  rmSync(gone);
  await assert.rejects(loadSlices(index, { width: 16 }), (e) =>
    assertNames(e, DataError, gone, 'cannot read'),
  );
  const warnings: string[] = [];
  const cache = await loadSlices(index, { width: 16, skipBadFiles: true, warn: (m) => warnings.push(m) });
  assert.equal(cache.count, 2);
  assert.equal(warnings.length, 1);
});

test('an image of more than 2048×2048 pixels is refused from its header, TIFF, PNG or JPEG, naming the file', async () => {
  const over = [
    ['bomb.tif', tiffBomb({ width: 2049, height: 2049, channels: 3 })],
    ['bomb16.tif', tiffBomb({ width: 2049, height: 2049, channels: 1, bits: 16 })],
    ['bomb.png', pngBomb(2049, 2049)],
    [
      'bomb.jpg',
      await sharp({ create: { width: 2049, height: 2049, channels: 3, background: '#000' } })
        .jpeg()
        .toBuffer(),
    ],
  ] as const;
  for (const [name, bytes] of over) {
    await assert.rejects(decodeImageBytes(bytes, name), (e) =>
      assertNames(e, ImageTooLargeError, `${name}: an image of 2049×2049 is 4.2 M pixels`, '(2048×2048)'),
    );
  }
  // At the limit it decodes.
  const at = await decodeImageBytes(tiffBomb({ width: 2048, height: 2048, channels: 1 }), 'at.tif');
  assert.deepEqual([at.width, at.height], [2048, 2048]);
});

test('a TIFF tile larger than a slice and a deflate strip inflating past its size are refused', async () => {
  await assert.rejects(
    decodeImageBytes(tiffBomb({ width: 64, height: 64, channels: 1, tile: [4096, 4096] }), 'tile.tif'),
    (e) => assertNames(e, ImageTooLargeError, 'tile.tif: a tile of 4096×4096'),
  );
  const strip = tiffBomb({ width: 64, height: 64, channels: 1, rowsPerStrip: 64, inflatesTo: 1 << 20 });
  await assert.rejects(decodeImageBytes(strip, 'strip.tif'), (e) =>
    assertNames(
      e,
      ImageDecodeError,
      'strip.tif: corrupt TIFF: deflate strip 1 inflates to more than the 4096 bytes',
    ),
  );
});

test('decompression bombs cost no memory: refused before decoding (peak RSS measured in a child, on Linux)', {
  skip: process.platform !== 'linux' && 'peak memory is read from /proc',
}, () => {
  // Decoding these would take 200 MB (8192×8192 RGB), 400 MB (the same in 16 bits), 200 MB of tiles and 64 MB
  // of one strip. A 16-bit TIFF (decoded by utif2) whose directory names itself as the next would be read
  // forever, growing until the 128 MB heap ran out; it decodes once.
  const child = runModule(
    `import { decodeImageBytes } from ${JSON.stringify(moduleUrl('src/data/read-image.ts'))};
    import { encodeTiff, tiffBomb } from ${JSON.stringify(moduleUrl('test/data/fixtures.ts'))};
    import { measurePeak } from ${JSON.stringify(moduleUrl('test/helpers/peak-memory.ts'))};
    const looping = encodeTiff({ width: 4, height: 4, channels: 1, bits: 16, samples: new Uint16Array(16) });
    const view = new DataView(looping.buffer);
    const ifd = view.getUint32(4, true);
    view.setUint32(ifd + 2 + view.getUint16(ifd, true) * 12, ifd, true);
    const bombs = {
      rgb: tiffBomb({ width: 8192, height: 8192, channels: 3 }),
      rgb16: tiffBomb({ width: 8192, height: 8192, channels: 3, bits: 16 }),
      tiles: tiffBomb({ width: 8192, height: 8192, channels: 3, tile: [8192, 8192] }),
      strip: tiffBomb({ width: 64, height: 64, channels: 1, rowsPerStrip: 64, inflatesTo: 64 << 20 }),
      looping,
    };
    const peak = measurePeak();
    const outcome = {};
    for (const [name, bytes] of Object.entries(bombs)) {
      outcome[name] = await decodeImageBytes(bytes, name).then(
        (image) => image.width + '×' + image.height,
        (err) => err.name,
      );
    }
    const grewMb = peak();
    console.log(JSON.stringify({ outcome, grewMb, sizes: Object.values(bombs).map((b) => b.length) }));`,
    { heapMb: 128 },
  );
  assert.equal(child.status, 0, child.stderr.slice(0, 800));
  const { outcome, grewMb, sizes } = JSON.parse(child.stdout) as {
    outcome: Record<string, string>;
    grewMb: number;
    sizes: number[];
  };
  assert.deepEqual(outcome, {
    rgb: 'ImageTooLargeError',
    rgb16: 'ImageTooLargeError',
    tiles: 'ImageTooLargeError',
    strip: 'ImageDecodeError',
    looping: '4×4',
  });
  assert.ok(Math.max(...sizes) < 200_000, `bombs of ${sizes.join(', ')} bytes`);
  assert.ok(grewMb < 48, `peak RSS grew by ${grewMb.toFixed(0)} MB`);
});
