// The NIfTI and DICOM readers on files the tests write byte by byte: values, data types, scaling, endianness,
// the affine from sform, qform or pixdim, a series out of file order, and every bad volume the issue lists
// (2-D, wrong dimensions, mismatched sequences, missing spacing, corrupt gzip) as an error naming the file. Then
// the writer: what it writes reads back with the input's affine and dimensions.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { VolumeError } from '../../src/data/errors.ts';
import { dicomSeriesOfFiles, isDicomFolder, readDicomSeries } from '../../src/volume/dicom.ts';
import { toEightBit } from '../../src/volume/intensity.ts';
import { niftiBytes, parseNifti, readNifti } from '../../src/volume/nifti.ts';
import { patientFromSequences } from '../../src/volume/patient-volume.ts';
import { type Affine, spaceAffine } from '../../src/volume/volume.ts';
import { tempDir } from '../data/fixtures.ts';
import {
  gridAffine,
  sample,
  type TestDicomSlice,
  testDicomBytes,
  testDicomSeries,
  testNiftiBytes,
  writeTestDicomSeries,
} from '../helpers/volumes.ts';

const AFFINE: Affine = [
  [-0.9, 0, 0, 110.5],
  [0, 0.9, 0, -120.25],
  [0, 0, 3, -40],
  [0, 0, 0, 1],
];

const close = (a: Affine, b: Affine, tolerance = 1e-4) =>
  a.every((row, r) => row.every((v, c) => Math.abs(v - b[r]![c]!) <= tolerance));

const bad = (file: string, pattern: RegExp) => (err: unknown) =>
  err instanceof VolumeError && err.message.startsWith(`${file}: `) && pattern.test(err.message);

describe('NIfTI reader', () => {
  it('reads values of every data type, both byte orders, gzip or not, with scl_slope applied', () => {
    const values = [0, 1, 2, 3, 40, 50, 60, 70];
    for (const type of ['uint8', 'int16', 'uint16', 'float32', 'float64'] as const) {
      for (const bigEndian of [false, true]) {
        const bytes = testNiftiBytes({
          shape: [2, 2, 2],
          type,
          values,
          affine: AFFINE,
          bigEndian,
          gzip: !bigEndian,
        });
        const volume = parseNifti(bytes, 'v.nii');
        assert.deepEqual(Array.from(volume.data), values, `${type} ${bigEndian ? 'BE' : 'LE'}`);
        assert.equal(volume.eightBit, type === 'uint8');
        assert.deepEqual(volume.dims, [2, 2, 2]);
        assert.ok(close(volume.affine, AFFINE));
      }
    }
    const scaled = parseNifti(
      testNiftiBytes({ shape: [2, 2, 2], type: 'uint8', values, slope: 2, inter: -1 }),
      'v',
    );
    assert.deepEqual(
      Array.from(scaled.data),
      values.map((v) => 2 * v - 1),
    );
    assert.equal(scaled.eightBit, false, 'scaled bytes are not the dataset’s scale');
  });

  it('takes the qform when there is no sform, and the pixdims alone when there is neither', () => {
    // quatern (0, 1, 0, 0) is 180° about x: j and k flip; with qfac −1, k flips back.
    const qform = parseNifti(
      testNiftiBytes({
        shape: [2, 2, 2],
        type: 'int16',
        values: new Array(8).fill(0),
        qform: { quatern: [1, 0, 0, 5, 6, 7], qfac: -1, pixdim: [2, 3, 4] },
      }),
      'q.nii.gz',
    );
    const expected: Affine = [
      [2, 0, 0, 5],
      [0, -3, 0, 6],
      [0, 0, 4, 7],
      [0, 0, 0, 1],
    ];
    assert.ok(close(qform.affine, expected), JSON.stringify(qform.affine));
    assert.deepEqual(qform.spacing, [2, 3, 4]);
    const analyze = parseNifti(
      testNiftiBytes({
        shape: [2, 2, 2],
        type: 'int16',
        values: new Array(8).fill(0),
        pixdim: [1.5, 1.5, 5],
      }),
      'a.nii',
    );
    assert.deepEqual(analyze.spacing, [1.5, 1.5, 5]);
    const none = parseNifti(
      testNiftiBytes({ shape: [2, 2, 2], type: 'int16', values: new Array(8).fill(0), pixdim: [0, 0, 0] }),
      'none.nii',
    );
    assert.equal(none.spacing, null, 'no spacing: tumour volume will be in voxels');
  });

  it('reads a 4-D volume’s fourth dimension as channels, channel after channel', () => {
    const values = Array.from({ length: 24 }, (_, i) => i);
    const volume = parseNifti(
      testNiftiBytes({ shape: [2, 2, 2, 3], type: 'int16', values, affine: AFFINE }),
      'v4',
    );
    assert.equal(volume.channels, 3);
    assert.deepEqual(Array.from(volume.data.subarray(8, 16)), values.slice(8, 16));
  });

  it('refuses bad volumes with an error naming the file', (t) => {
    const dir = tempDir(t);
    const file = (name: string, bytes: Uint8Array) => {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    };
    const flat = file(
      'flat.nii.gz',
      testNiftiBytes({ shape: [4, 4], type: 'uint8', values: new Array(16).fill(1) }),
    );
    assert.throws(() => readNifti(flat), bad(flat, /2-D image \(4×4\)/));
    const thin = file(
      'thin.nii',
      testNiftiBytes({ shape: [4, 4, 1], type: 'uint8', values: new Array(16).fill(1) }),
    );
    assert.throws(() => readNifti(thin), bad(thin, /2-D image/));
    const sixD = file(
      'six.nii',
      testNiftiBytes({ shape: [2, 2, 2, 2, 3], type: 'uint8', values: new Array(48).fill(1), gzip: false }),
    );
    assert.throws(() => readNifti(sixD), bad(sixD, /expected x×y×z or x×y×z×channels/));
    const good = testNiftiBytes({ shape: [4, 4, 4], type: 'int16', values: new Array(64).fill(1) });
    const corrupt = file('corrupt.nii.gz', good.subarray(0, good.length - 20));
    assert.throws(() => readNifti(corrupt), bad(corrupt, /not valid gzip/));
    const raw = testNiftiBytes({
      shape: [4, 4, 4],
      type: 'int16',
      values: new Array(64).fill(1),
      gzip: false,
    });
    const truncated = file('truncated.nii', raw.subarray(0, 400));
    assert.throws(() => readNifti(truncated), bad(truncated, /truncated/));
    const text = file('notes.nii', new TextEncoder().encode('not a volume at all '.repeat(30)));
    assert.throws(() => readNifti(text), bad(text, /not a NIfTI/));
    const bomb = file('bomb.nii.gz', gzipSync(new Uint8Array(400 * 1024 * 1024)));
    assert.throws(() => readNifti(bomb), bad(bomb, /decompresses to more than/));
  });

  it('refuses sequences that are not on one grid', () => {
    const values = new Array(64).fill(1);
    const flair = parseNifti(
      testNiftiBytes({ shape: [4, 4, 4], type: 'int16', values, affine: AFFINE }),
      'flair.nii',
    );
    const small = parseNifti(
      testNiftiBytes({ shape: [4, 4, 2], type: 'int16', values: values.slice(32), affine: AFFINE }),
      'pre.nii',
    );
    assert.throws(() => patientFromSequences('p', { flair, pre: small }), bad('pre.nii', /4×4×2 voxels/));
    const moved = AFFINE.map((row) => row.slice()) as unknown as number[][];
    moved[2]![3] = -37;
    const shifted = parseNifti(
      testNiftiBytes({ shape: [4, 4, 4], type: 'int16', values, affine: moved as unknown as Affine }),
      'post.nii',
    );
    assert.throws(
      () => patientFromSequences('p', { flair, post: shifted }),
      bad('post.nii', /lies elsewhere/),
    );
    const both = patientFromSequences('p', { flair });
    assert.equal(both.channels[0], both.channels[1], 'a missing sequence is FLAIR, as in the dataset');
    assert.match(both.notes.join('\n'), /no pre-contrast sequence/);
  });
});

describe('8-bit mapping', () => {
  it('maps each sequence’s minimum to 0 and maximum to 255, linearly, and takes 8-bit volumes as they are', () => {
    const data = new Float32Array([-100, 0, 60, 300, 7, 7, 7, 7]);
    const mapped = toEightBit(data, 4, 0, false);
    assert.deepEqual(Array.from(mapped.data), [0, 64, 102, 255]); // 255 · (v + 100) / 400
    assert.deepEqual([mapped.min, mapped.max], [-100, 300]);
    assert.deepEqual(Array.from(toEightBit(data, 4, 1, false).data), [0, 0, 0, 0], 'constant channel');
    assert.deepEqual(Array.from(toEightBit(new Float32Array([3, 200, 17]), 3, 0, true).data), [3, 200, 17]);
  });
});

describe('DICOM series reader', () => {
  it('orders slices by position, not file name, and turns LPS into the RAS affine', (t) => {
    const dir = tempDir(t);
    // A DICOM-typical grid: columns to the patient's left, rows to posterior, slices upward.
    const { affine, dims } = gridAffine({ size: [4, 3, 5], spacing: [0.8, 0.9, 2.5] }, ['L', 'P', 'S']);
    const values = sample(affine, dims, (x, y, z) => Math.round(100 + 10 * x + 3 * y + z));
    writeTestDicomSeries(join(dir, 'flair'), affine, dims, values, { slope: 2, intercept: -5 });
    const volume = readDicomSeries(join(dir, 'flair'));
    assert.deepEqual(volume.dims, dims);
    assert.ok(close(volume.affine, affine), JSON.stringify(volume.affine));
    assert.deepEqual(
      Array.from(volume.data),
      Array.from(values, (v) => 2 * v - 5),
    );
    assert.deepEqual(volume.spacing, [0.8, 0.9, 2.5]);
    assert.ok(close(spaceAffine(volume.space), affine), 'the mask is written with this affine');
    assert.ok(isDicomFolder(join(dir, 'flair')), 'told from its files as a volume, not slices');
    // The same series from files in memory (an upload) is the same volume.
    const files = testDicomSeries(affine, dims, values, { slope: 2, intercept: -5 });
    const uploaded = dicomSeriesOfFiles(
      'upload',
      files.map(({ name, bytes }) => ({ file: name, bytes })),
    );
    assert.deepEqual({ ...uploaded, source: '' }, { ...volume, source: '' });
  });

  it('refuses a folder of two series, a gap in the slices and compressed pixels, naming the file', (t) => {
    const dir = tempDir(t);
    const { affine, dims } = gridAffine({ size: [2, 2, 4], spacing: [1, 1, 1] }, ['L', 'P', 'S']);
    const values = new Array(16).fill(5);
    const two = join(dir, 'two');
    writeTestDicomSeries(two, affine, dims, values);
    /** A lone 2×2 slice, whatever else is given. */
    const slice = (extra: Partial<TestDicomSlice>) =>
      testDicomBytes({
        rows: 2,
        columns: 2,
        orientation: [1, 0, 0, 0, 1, 0],
        position: [0, 0, 0],
        pixelSpacing: [1, 1],
        pixels: [1, 2, 3, 4],
        ...extra,
      });
    writeFileSync(join(two, 'other'), slice({ position: [0, 0, 10], series: '9.9.9' }));
    assert.throws(() => readDicomSeries(two), bad(two, /holds 2 series/));
    const gap = join(dir, 'gap');
    const files = writeTestDicomSeries(gap, affine, dims, values);
    rmSync(files[2]!);
    assert.throws(
      () => readDicomSeries(gap),
      (err) => err instanceof VolumeError && /slices missing/.test(err.message),
    );
    const packed = join(dir, 'packed');
    mkdirSync(packed);
    const jpeg = join(packed, 'a');
    writeFileSync(jpeg, slice({ transferSyntax: '1.2.840.10008.1.2.4.70' }));
    assert.throws(() => readDicomSeries(packed), bad(jpeg, /compressed pixel data/));
  });
});

describe('NIfTI writer', () => {
  it('writes masks and probabilities that read back with the input’s affine, dimensions and voxels', () => {
    const input = parseNifti(
      testNiftiBytes({ shape: [3, 2, 2], type: 'int16', values: new Array(12).fill(0), affine: AFFINE }),
      'in.nii.gz',
    );
    const mask = Uint8Array.from({ length: 12 }, (_, i) => i % 2);
    const back = parseNifti(niftiBytes({ dims: input.dims, data: mask, space: input.space }), 'mask.nii.gz');
    assert.deepEqual(back.dims, input.dims);
    assert.deepEqual(back.space, input.space);
    assert.ok(close(back.affine, input.affine, 0));
    assert.deepEqual(Array.from(back.data), Array.from(mask));
    const probabilities = Float32Array.from({ length: 12 }, (_, i) => i / 11);
    const p = parseNifti(
      niftiBytes({ dims: input.dims, data: probabilities, space: input.space }),
      'p.nii.gz',
    );
    assert.deepEqual(Array.from(p.data), Array.from(probabilities));
  });

  it('keeps a qform and an sform that differ, each as it was', () => {
    const bytes = testNiftiBytes({
      shape: [2, 2, 2],
      type: 'int16',
      values: new Array(8).fill(0),
      qform: { quatern: [0, 0, 1, 1, 2, 3], qfac: 1, pixdim: [1, 1, 1] },
    });
    const input = parseNifti(bytes, 'q.nii.gz');
    const space = {
      ...input.space,
      sformCode: 2,
      srow: [
        [2, 0, 0, 9],
        [0, 2, 0, 8],
        [0, 0, 2, 7],
      ] as const,
    };
    const back = parseNifti(niftiBytes({ dims: input.dims, data: new Uint8Array(8), space }), 'mask.nii.gz');
    assert.deepEqual(back.space, space);
  });
});
