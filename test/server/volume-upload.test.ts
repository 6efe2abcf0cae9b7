// The server's volume uploads without a server: NIfTI volumes and DICOM series in fields 'flair', 'pre' and
// 'post', and the refusals (no FLAIR, a sequence twice, a slice image in a sequence field, a file named .nii that
// is not one; a non-DICOM file in a series, compressed pixels, two series in one field, too many files, DICOM
// in the slices' field, NIfTI and DICOM in one field), each naming the file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { HttpError } from '../../src/server/http-error.ts';
import type { Part } from '../../src/server/multipart.ts';
import { readUploads } from '../../src/server/uploads.ts';
import { patientNifti, patientOfUploads } from '../../src/server/volume-upload.ts';
import { parseNifti } from '../../src/volume/nifti.ts';
import { encodeTiff, pattern } from '../data/fixtures.ts';
import { gridAffine, sample, testDicomBytes, testDicomSeries, testNiftiBytes } from '../helpers/volumes.ts';

const { affine, dims } = gridAffine({ size: [6, 5, 3], spacing: [1, 1, 2] }, ['R', 'A', 'S']);
const values = sample(affine, dims, (x, y, z) => 100 + x + 10 * y + z);
const nifti = testNiftiBytes({ shape: dims, type: 'int16', values, affine });
const part = (name: string, filename: string, data: Uint8Array): Part => ({ name, filename, data });

const LIMITS = { maxSlices: 1024, maxUnpackedBytes: 1024 * 1024 };
const patientOf = (parts: Part[]) => patientOfUploads(readUploads(parts), LIMITS);

const refused = (status: number, pattern: RegExp) => (err: unknown) =>
  err instanceof HttpError && err.status === status && pattern.test(err.message);

describe('NIfTI uploads', () => {
  it('reads the sequences of fields flair and post, FLAIR standing in for pre-contrast', () => {
    const uploads = readUploads([
      part('flair', 'sub-01_FLAIR.nii.gz', nifti),
      part('post', 'post.nii.gz', nifti),
    ]);
    assert.deepEqual(
      uploads.map((u) => [u.kind, u.sequence]),
      [
        ['volume', 'flair'],
        ['volume', 'post'],
      ],
    );
    const patient = patientOfUploads(uploads, LIMITS)!;
    assert.equal(patient.patient, 'sub-01_FLAIR');
    assert.deepEqual(patient.dims, dims);
    assert.equal(patient.channels[0], patient.channels[1]);
  });

  it('leaves slice uploads to the slice path', () => {
    const tiff = encodeTiff({ width: 4, height: 4, channels: 3, samples: pattern(48) });
    assert.equal(patientOf([part('files', 'a.tif', tiff)]), undefined);
  });

  it('refuses a sequence without FLAIR, one sent twice, a slice in a sequence field and a fake .nii', () => {
    assert.throws(
      () => patientOf([part('pre', 'pre.nii.gz', nifti)]),
      refused(400, /^pre\.nii\.gz: the FLAIR volume \(field 'flair'\) is required/),
    );
    assert.throws(
      () => patientOf([part('flair', 'a.nii.gz', nifti), part('flair', 'b.nii.gz', nifti)]),
      refused(400, /^b\.nii\.gz: a second 'flair' NIfTI volume/),
    );
    const tiff = encodeTiff({ width: 4, height: 4, channels: 3, samples: pattern(48) });
    assert.throws(
      () => readUploads([part('flair', 'slice.tif', tiff)]),
      refused(415, /^slice\.tif: not a NIfTI volume, DICOM file or \.zip of a series for field 'flair'/),
    );
    assert.throws(
      () => readUploads([part('files', 'notes.nii', new TextEncoder().encode('x'.repeat(400)))]),
      refused(415, /^notes\.nii: not a NIfTI volume/),
    );
  });
});

describe('DICOM uploads', () => {
  // Whole numbers, as DICOM stores them; the same anatomy as a NIfTI file and as a series (stored L, P, S).
  const { affine: lps, dims: grid } = gridAffine({ size: [6, 5, 4], spacing: [0.8, 0.9, 2.5] }, [
    'L',
    'P',
    'S',
  ]);
  const brain = sample(lps, grid, (x, y, z) => Math.round(300 + 20 * x - 7 * y + 3 * z));
  const series = (field: string, folder = 'TCGA_CS_4941_19960909/flair') =>
    testDicomSeries(lps, grid, brain).map((f) => part(field, `${folder}/${f.name}`, f.bytes));
  const asNifti = testNiftiBytes({ shape: grid, type: 'int16', values: brain, affine: lps });

  it('reads a series sent as files of field flair as the same volume as its NIfTI, named by its folder', () => {
    const fromDicom = patientOf([...series('flair'), ...series('pre', 'TCGA_CS_4941_19960909/pre')])!;
    const fromNifti = patientOf([
      part('flair', 'flair.nii.gz', asNifti),
      part('pre', 'pre.nii.gz', asNifti),
    ])!;
    assert.equal(fromDicom.patient, 'TCGA_CS_4941_19960909');
    assert.deepEqual(fromDicom.dims, fromNifti.dims);
    for (let r = 0; r < 4; r++)
      for (let c = 0; c < 4; c++)
        assert.ok(
          Math.abs(fromDicom.affine[r]![c]! - fromNifti.affine[r]![c]!) < 1e-4,
          `affine [${r}][${c}]`,
        );
    assert.deepEqual(fromDicom.layout, fromNifti.layout);
    fromDicom.channels.forEach((channel, c) => {
      assert.deepEqual(channel, fromNifti.channels[c], `channel ${c}`);
    });
    assert.match(fromDicom.notes.join('\n'), /no post-contrast sequence: FLAIR stands in/);
    // The input as the models saw it, for a viewer that cannot read DICOM: the three channels on the grid.
    const image = parseNifti(patientNifti(fromDicom), 'image.nii.gz');
    assert.deepEqual([...image.dims, image.channels], [...grid, 3]);
    assert.ok(
      image.affine.every((row, r) => row.every((v, c) => Math.abs(v - fromNifti.affine[r]![c]!) < 1e-4)),
    );
    const voxels = fromDicom.channels[0].length;
    fromDicom.channels.forEach((channel, c) => {
      assert.deepEqual(Array.from(image.data.subarray(c * voxels, (c + 1) * voxels)), Array.from(channel));
    });
  });

  it('names a patient sent without folders DICOM', () => {
    const bare = testDicomSeries(lps, grid, brain).map((f) => part('flair', f.name, f.bytes));
    assert.equal(patientOf(bare)!.patient, 'DICOM');
  });

  it('refuses a non-DICOM file in a series, naming it', () => {
    const notes = part('flair', 'TCGA/flair/notes.txt', new TextEncoder().encode('scanned on a Tuesday'));
    assert.throws(
      () => patientOf([...series('flair'), notes]),
      refused(415, /^notes\.txt: not a NIfTI volume, DICOM file or \.zip of a series for field 'flair'/),
    );
  });

  it('refuses compressed pixels, naming the file and how to decompress it', () => {
    const files = series('flair');
    const [name, bytes] = [
      files[1]!.filename!,
      testDicomSeries(lps, grid, brain, {
        transferSyntax: '1.2.840.10008.1.2.4.70',
      })[1]!.bytes,
    ];
    files[1] = part('flair', name, bytes);
    assert.throws(
      () => patientOf(files),
      refused(
        400,
        new RegExp(
          `^${name.split('/').pop()}: holds compressed pixel data \\(transfer syntax 1\\.2\\.840\\.10008\\.1\\.2\\.4\\.70\\).*gdcmconv`,
        ),
      ),
    );
  });

  it('refuses two series in one field, naming the field and a file of each', () => {
    const other = testDicomBytes({
      rows: 5,
      columns: 6,
      orientation: [1, 0, 0, 0, 1, 0],
      position: [0, 0, 40],
      pixelSpacing: [0.9, 0.8],
      pixels: new Array(30).fill(9),
      series: '9.9.9',
    });
    assert.throws(
      () => patientOf([...series('flair'), part('flair', 'TCGA_CS_4941_19960909/flair/T1-1', other)]),
      refused(400, /^TCGA_CS_4941_19960909\/flair \(field 'flair'\): holds 2 series \(.*T1-1…\)/),
    );
  });

  it('refuses more files than the request may have slices, before reading them', () => {
    assert.throws(
      () => patientOfUploads(readUploads(series('flair', 'p')), { ...LIMITS, maxSlices: 3 }),
      refused(413, /^p \(field 'flair'\): more than 3 slices in one request/),
    );
  });

  it('refuses DICOM in the slices’ field and NIfTI beside DICOM in one field', () => {
    assert.throws(
      () => readUploads([part('files', 'IM0001', series('flair')[0]!.data)]),
      refused(
        400,
        /^IM0001: a DICOM file in field 'files'; send a DICOM series as its files in field 'flair'/,
      ),
    );
    assert.throws(
      () => patientOf([...series('flair'), part('flair', 'flair.nii.gz', asNifti)]),
      refused(400, /^flair\.nii\.gz: a NIfTI volume file in field 'flair', which holds the DICOM series IM/),
    );
  });

  it('reads a zipped series folder as its files, leaving out other files, DICOMDIR and clutter', () => {
    const entries: Record<string, Uint8Array> = {
      'TCGA_CS_4941_19960909/flair/DICOMDIR': testDicomSeries(lps, grid, brain)[0]!.bytes,
      'TCGA_CS_4941_19960909/flair/notes.txt': new TextEncoder().encode('scanned on a Tuesday'),
      '__MACOSX/TCGA_CS_4941_19960909/flair/._IM0000-0': new Uint8Array(300),
    };
    for (const f of testDicomSeries(lps, grid, brain))
      entries[`TCGA_CS_4941_19960909/flair/${f.name}`] = f.bytes;
    const zipped = patientOf([part('flair', 'flair.zip', zipSync(entries))])!;
    const files = patientOf(series('flair'))!;
    assert.equal(zipped.patient, 'TCGA_CS_4941_19960909');
    assert.deepEqual(zipped.channels, files.channels);
    assert.deepEqual(zipped.affine, files.affine);
    const bare = Object.fromEntries(testDicomSeries(lps, grid, brain).map((f) => [f.name, f.bytes]));
    assert.equal(patientOf([part('flair', 'P02.zip', zipSync(bare))])!.patient, 'P02', 'named by the zip');
  });

  it('refuses a zipped series past the limits, without DICOM, or beside other files of its field', () => {
    const zip = zipSync(
      Object.fromEntries(testDicomSeries(lps, grid, brain).map((f) => [`s/${f.name}`, f.bytes])),
    );
    assert.throws(
      () => patientOfUploads(readUploads([part('flair', 'big.zip', zip)]), { ...LIMITS, maxSlices: 3 }),
      refused(413, /^big\.zip: more than 3 slices in one request/),
    );
    assert.throws(
      () =>
        patientOfUploads(readUploads([part('flair', 'big.zip', zip)]), { ...LIMITS, maxUnpackedBytes: 1000 }),
      refused(413, /^big\.zip: unpacks to more than 1000 bytes/),
    );
    const text = zipSync({ 'readme.txt': new TextEncoder().encode('no images here') });
    assert.throws(
      () => patientOf([part('flair', 'empty.zip', text)]),
      refused(415, /^empty\.zip: no DICOM files in the archive/),
    );
    assert.throws(
      () => patientOf([part('flair', 'a.zip', zip), ...series('flair')]),
      refused(
        400,
        /^IM\S+: a DICOM series file in field 'flair', which holds the zipped DICOM series a\.zip/,
      ),
    );
  });
});
