// Reading slices the way users have them: every TIFF kind the reader claims, PNG/JPEG, masks, the kaggle_3m
// layout with data.csv, one file, a folder without masks, a list of files, and two real patients.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { parseCsv } from '../../src/data/clinical-csv.ts';
import { scanDataset } from '../../src/data/dataset-index.ts';
import { binariseMask, binariseMaskInto, toRgb } from '../../src/data/image.ts';
import { decodeImageBytes, readImage, readTiff } from '../../src/data/read-image.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import {
  boxMask,
  pattern,
  sharedLgg,
  tempDir,
  writeJpeg,
  writeKaggleFolder,
  writeLzwTiff,
  writePng,
  writeTiff,
} from './fixtures.ts';

test('uncompressed 8-bit RGB TIFF with a padded last strip decodes to the exact pixels', (t) => {
  const dir = tempDir(t);
  const samples = pattern(20 * 23 * 3);
  // 23 rows in strips of 5: the last strip holds 3 rows but claims (and stores) 5, as the LGG files do.
  const path = writeTiff(join(dir, 'a.tif'), {
    width: 20,
    height: 23,
    channels: 3,
    samples,
    rowsPerStrip: 5,
    padLastStrip: true,
  });
  const image = readTiff(path);
  assert.deepEqual([image.width, image.height, image.channels, image.sourceBits], [20, 23, 3, 8]);
  assert.deepEqual(image.data, samples);
});

test('big-endian, deflate and LZW TIFFs decode to the same pixels', async (t) => {
  const dir = tempDir(t);
  const samples = pattern(31 * 17 * 3, 4);
  const spec = { width: 31, height: 17, channels: 3, samples, rowsPerStrip: 4 };
  const big = readTiff(writeTiff(join(dir, 'be.tif'), { ...spec, bigEndian: true }));
  const deflate = readTiff(writeTiff(join(dir, 'deflate.tif'), { ...spec, compression: 'deflate' }));
  const lzw = readTiff(await writeLzwTiff(join(dir, 'lzw.tif'), 31, 17, 3, samples));
  assert.deepEqual(big.data, samples);
  assert.deepEqual(deflate.data, samples);
  assert.deepEqual(lzw.data, samples);
});

test('grayscale TIFF stays one channel when decoded and becomes three identical channels for the model', (t) => {
  const dir = tempDir(t);
  const samples = pattern(8 * 6);
  const image = readTiff(writeTiff(join(dir, 'g.tif'), { width: 8, height: 6, channels: 1, samples }));
  assert.equal(image.channels, 1);
  const rgb = toRgb(image);
  assert.equal(rgb.channels, 3);
  assert.deepEqual(
    [rgb.data[3 * 7], rgb.data[3 * 7 + 1], rgb.data[3 * 7 + 2]],
    [samples[7], samples[7], samples[7]],
  );
});

test('16-bit TIFF is scaled to 8 bits by its maximum and says so', (t) => {
  const dir = tempDir(t);
  const samples = Uint16Array.from([0, 1000, 2000, 4000]);
  const image = readTiff(
    writeTiff(join(dir, 's.tif'), { width: 2, height: 2, channels: 1, bits: 16, samples }),
  );
  assert.equal(image.sourceBits, 16);
  assert.deepEqual([...image.data], [0, 64, 128, 255]);
  assert.match(image.note ?? '', /16-bit.*4000/);
});

test('RGBA TIFF and 1-bit masks: alpha dropped, bits unpacked', (t) => {
  const dir = tempDir(t);
  const rgba = Uint8Array.from([10, 20, 30, 255, 40, 50, 60, 0]);
  const image = readTiff(
    writeTiff(join(dir, 'rgba.tif'), { width: 2, height: 1, channels: 4, samples: rgba }),
  );
  assert.deepEqual([image.channels, ...image.data], [3, 10, 20, 30, 40, 50, 60]);
  // 10 pixels wide: one row is two bytes, 0b10100000 0b01000000.
  const bits = Uint8Array.from([0b10100000, 0b01000000]);
  const mask = readTiff(
    writeTiff(join(dir, 'm.tif'), { width: 10, height: 1, channels: 1, bits: 1, samples: bits }),
  );
  assert.deepEqual([...binariseMask(mask, 'm.tif')], [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
});

test('PNG reads exactly, JPEG closely; a PNG mask is binarised', async (t) => {
  const dir = tempDir(t);
  const samples = pattern(12 * 10 * 3);
  const png = await readImage(await writePng(join(dir, 'a.png'), 12, 10, 3, samples));
  assert.deepEqual([png.width, png.height, png.channels], [12, 10, 3]);
  assert.deepEqual(png.data, samples);
  const smooth = new Uint8Array(12 * 10 * 3).fill(100);
  const jpeg = await readImage(await writeJpeg(join(dir, 'a.jpg'), 12, 10, smooth));
  assert.equal(jpeg.channels, 3);
  assert.ok(jpeg.data.every((v) => Math.abs(v - 100) <= 2));
  const mask = await readImage(
    await writePng(join(dir, 'm.png'), 4, 1, 1, Uint8Array.from([0, 255, 0, 255])),
  );
  assert.deepEqual([...binariseMask(mask, 'm.png')], [0, 1, 0, 1]);
});

test('masks of 0/255 and of 0/1 binarise to the same 0/1', () => {
  const m255 = {
    width: 4,
    height: 1,
    channels: 1 as const,
    sourceBits: 8,
    data: Uint8Array.from([0, 255, 255, 0]),
  };
  const m1 = { ...m255, data: Uint8Array.from([0, 1, 1, 0]) };
  assert.deepEqual([...binariseMask(m255, 'm255.tif')], [0, 1, 1, 0]);
  assert.deepEqual([...binariseMask(m1, 'm1.tif')], [0, 1, 1, 0]);
});

test('kaggle_3m folder: patients, numeric slice order, masks paired, data.csv joined by patient', (t) => {
  const root = writeKaggleFolder(tempDir(t), [
    { id: 'TCGA_CS_4941_19960909', slices: 12, tumour: [2] },
    { id: 'TCGA_HT_7602_19951103', slices: 3 },
  ]);
  writeFileSync(join(root, 'README.md'), 'not a slice');
  const index = scanDataset(root);
  assert.equal(index.layout, 'kaggle_3m');
  assert.equal(index.hasMasks, true);
  assert.deepEqual(
    index.patients.map((p) => [p.id, p.institution, p.slices.length]),
    [
      ['TCGA_CS_4941_19960909', 'CS', 12],
      ['TCGA_HT_7602_19951103', 'HT', 3],
    ],
  );
  const first = index.patients[0]!;
  assert.deepEqual(
    first.slices.map((s) => s.sliceNumber),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  );
  assert.match(first.slices[9]!.imagePath, /_10\.tif$/);
  assert.match(first.slices[9]!.maskPath!, /_10_mask\.tif$/);
  assert.deepEqual(first.clinical, { RNASeqCluster: 1, CNCluster: null, age: 40, grade: 'G3' });
  assert.deepEqual(index.clinicalColumns, ['RNASeqCluster', 'CNCluster', 'age', 'grade']);
});

test('the folder above kaggle_3m is accepted too', (t) => {
  const top = tempDir(t);
  writeKaggleFolder(join(top, 'kaggle_3m'), [{ id: 'TCGA_DU_0001_20000101', slices: 2 }]);
  assert.equal(scanDataset(top).patients[0]!.id, 'TCGA_DU_0001_20000101');
});

test('one slice file (its mask found beside it), a folder without masks, a list of files', (t) => {
  const root = writeKaggleFolder(tempDir(t), [{ id: 'TCGA_EZ_0002_20000101', slices: 3 }]);
  const dir = join(root, 'TCGA_EZ_0002_20000101');
  const one = scanDataset(join(dir, 'TCGA_EZ_0002_20000101_2.tif'));
  assert.equal(one.layout, 'file');
  assert.equal(one.patients[0]!.slices.length, 1);
  assert.match(one.patients[0]!.slices[0]!.maskPath!, /_2_mask\.tif$/);

  const plain = join(tempDir(t), 'patient7');
  for (const n of [10, 9, 1])
    writeTiff(join(plain, `slice_${n}.tif`), { width: 4, height: 4, channels: 1, samples: pattern(16) });
  const folder = scanDataset(plain);
  assert.equal(folder.layout, 'patient-folder');
  assert.equal(folder.hasMasks, false);
  assert.deepEqual(
    folder.patients[0]!.slices.map((s) => s.sliceNumber),
    [1, 9, 10],
  );

  const list = scanDataset([join(dir, 'TCGA_EZ_0002_20000101_3.tif'), join(plain, 'slice_9.tif')]);
  assert.equal(list.layout, 'file-list');
  assert.deepEqual(
    list.patients.map((p) => p.id),
    ['slice', 'TCGA_EZ_0002_20000101'],
  );
  assert.match(
    list.patients[1]!.slices[0]!.maskPath!,
    /_3_mask\.tif$/,
    'the mask beside a listed slice comes along',
  );
  assert.equal(list.patients[0]!.slices[0]!.maskPath, undefined);
  assert.equal(list.hasMasks, false);
});

test('the slice cache holds every slice as RGB at the asked size, masks as 0/1, tumour pixels counted', async (t) => {
  const root = writeKaggleFolder(tempDir(t), [
    { id: 'TCGA_FG_0003_20000101', slices: 3, tumour: [3], size: 16 },
  ]);
  const index = scanDataset(root);
  const same = await loadSlices(index, { width: 16 });
  assert.equal(same.count, 3);
  assert.deepEqual(same.images.subarray(0, 16 * 16 * 3), pattern(16 * 16 * 3, 1));
  // Slice 3's box is x 2..5, y 2..6: 3 × 4 pixels.
  assert.deepEqual([...same.tumourPixels], [0, 0, 12]);
  assert.ok(same.masks!.every((v) => v === 0 || v === 1));
  const progress: number[] = [];
  const small = await loadSlices(index, { width: 8, onProgress: (done) => progress.push(done) });
  assert.equal(small.images.length, 3 * 8 * 8 * 3);
  assert.deepEqual([...small.tumourPixels], [0, 0, 2]); // nearest samples pixel centres 1, 3, 5, ...: 1 × 2 of the box
  assert.deepEqual(progress, [1, 2, 3]);
  assert.deepEqual(small.notes, ['resized from 16×16 to 8×8: 3 slices']);
});

test('a grayscale PNG patient folder is cached as three equal channels', async (t) => {
  const dir = join(tempDir(t), 'p1');
  await writePng(join(dir, 'x_1.png'), 4, 4, 1, pattern(16));
  await writePng(join(dir, 'x_1_mask.png'), 4, 4, 1, boxMask(4, 4, [0, 0, 2, 2], 1));
  const cache = await loadSlices(scanDataset(dir), { width: 4 });
  const px = cache.images.subarray(0, 3);
  assert.deepEqual([...px], [pattern(16)[0], pattern(16)[0], pattern(16)[0]]);
  assert.deepEqual([...cache.tumourPixels], [4]);
});

test('CSV parser: quotes, doubled quotes, CRLF, empty fields', () => {
  assert.deepEqual(parseCsv('a,b,c\r\n"x, y","say ""hi""",\r\n1,,3\n'), [
    ['a', 'b', 'c'],
    ['x, y', 'say "hi"', ''],
    ['1', '', '3'],
  ]);
});

test('two real LGG patients: counts match the files, pixels match sharp, masks are 0/1', async (t) => {
  const unpack = join(sharedLgg, 'unpack');
  if (!existsSync(unpack)) {
    // Only some machines hold the real data beside the checkout: a visible skip, not a silent pass.
    t.skip(`${sharedLgg} not found: the real-data check needs it`);
    return;
  }
  const dest = tempDir(t);
  execFileSync('bash', [unpack, dest, '2'], { stdio: 'ignore' });
  const root = join(dest, 'kaggle_3m');
  const index = scanDataset(root);
  assert.equal(index.patients.length, 2);
  for (const p of index.patients) {
    const files = readdirSync(join(root, p.id)).filter((f) => f.endsWith('.tif'));
    assert.equal(p.slices.length * 2, files.length);
    assert.ok(p.clinical, `${p.id} joined to data.csv`);
  }
  const cache = await loadSlices(index);
  assert.equal(cache.count, index.patients[0]!.slices.length + index.patients[1]!.slices.length);
  assert.ok(cache.masks!.every((v) => v <= 1));
  assert.ok(cache.tumourPixels.some((v) => v > 0));
  const slice = index.patients[0]!.slices[10]!;
  const reference = await sharp(slice.imagePath).raw().toBuffer();
  assert.deepEqual(Buffer.from(cache.images.subarray(10 * 256 * 256 * 3, 11 * 256 * 256 * 3)), reference);
});

test('a folder of non-TCGA patient folders without masks needs no data.csv; with some masks it needs all', (t) => {
  const root = tempDir(t);
  for (const patient of ['alice', 'bob']) {
    for (const n of [1, 2]) {
      writeTiff(join(root, patient, `${patient}_${n}.tif`), {
        width: 4,
        height: 4,
        channels: 1,
        samples: pattern(16),
      });
    }
  }
  const index = scanDataset(root);
  assert.equal(index.layout, 'kaggle_3m');
  assert.equal(index.hasMasks, false);
  assert.deepEqual(
    index.patients.map((p) => [p.id, p.institution, p.slices.length]),
    [
      ['alice', 'unknown', 2],
      ['bob', 'unknown', 2],
    ],
  );
  writeTiff(join(root, 'bob', 'bob_1_mask.tif'), {
    width: 4,
    height: 4,
    channels: 1,
    samples: boxMask(4, 4),
  });
  assert.throws(() => scanDataset(root), /alice_1\.tif: image has no mask/);
});

test('patient folders and slices linked in with symbolic links are found', (t) => {
  const real = writeKaggleFolder(tempDir(t), [{ id: 'TCGA_CS_0009_20000101', slices: 2 }]);
  const linked = tempDir(t);
  symlinkSync(join(real, 'TCGA_CS_0009_20000101'), join(linked, 'TCGA_CS_0009_20000101'));
  symlinkSync(join(real, 'data.csv'), join(linked, 'data.csv'));
  const index = scanDataset(linked);
  assert.equal(index.patients[0]!.slices.length, 2);
  assert.ok(index.patients[0]!.clinical);
});

test('16-bit PNG is scaled to 8 bits over the full range and says so', async (t) => {
  const path = join(tempDir(t), 'deep.png');
  await sharp(new Uint16Array([0, 65535, 32896, 257]), { raw: { width: 2, height: 2, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toFile(path);
  const image = await readImage(path);
  assert.equal(image.sourceBits, 16);
  assert.match(image.note ?? '', /16-bit/);
  assert.deepEqual(
    [...toRgb(image).data].filter((_, i) => i % 3 === 0),
    [0, 255, 128, 1],
  );
});

test('mask binarisation (four pixels at a time) matches the per-pixel rule and counts the pixels', () => {
  const wide = Uint8Array.from({ length: 64 }, (_, i) => [0, 255, 255, 0, 0, 0, 255, 0][i % 8]!);
  const ones = Uint8Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  for (const data of [wide, ones]) {
    const expected = [...data].map((v) => (v > 0 ? 1 : 0));
    const out = new Uint8Array(64);
    const count = binariseMaskInto({ width: 8, height: 8, channels: 1, sourceBits: 8, data }, out, 'm.tif');
    assert.deepEqual([...out], expected);
    assert.equal(
      count,
      expected.reduce((a: number, b) => a + b, 0),
    );
    // An odd size takes the per-pixel path: same answer.
    const odd = binariseMask(
      { width: 7, height: 9, channels: 1, sourceBits: 8, data: data.subarray(0, 63) },
      'm.tif',
    );
    assert.deepEqual([...odd], expected.slice(0, 63));
  }
});

test('decoding keeps nothing in libvips: its operation cache is off', async () => {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#345' } })
    .png()
    .toBuffer();
  await decodeImageBytes(png, 'one.png');
  assert.equal(sharp.cache().items.current, 0);
});
