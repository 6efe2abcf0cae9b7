// The server's NIfTI uploads without a server: sequences in fields 'flair', 'pre' and 'post', and the refusals
// (no FLAIR, a sequence twice, a slice image in a sequence field, a file named .nii that is not one).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from '../../src/server/http-error.ts';
import type { Part } from '../../src/server/multipart.ts';
import { readUploads } from '../../src/server/uploads.ts';
import { patientOfUploads } from '../../src/server/volume-upload.ts';
import { encodeTiff, pattern } from '../data/fixtures.ts';
import { gridAffine, sample, testNiftiBytes } from '../helpers/volumes.ts';

const { affine, dims } = gridAffine({ size: [6, 5, 3], spacing: [1, 1, 2] }, ['R', 'A', 'S']);
const values = sample(affine, dims, (x, y, z) => 100 + x + 10 * y + z);
const nifti = testNiftiBytes({ shape: dims, type: 'int16', values, affine });
const part = (name: string, filename: string, data: Uint8Array): Part => ({ name, filename, data });

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
    const patient = patientOfUploads(uploads)!;
    assert.equal(patient.patient, 'sub-01_FLAIR');
    assert.deepEqual(patient.dims, dims);
    assert.equal(patient.channels[0], patient.channels[1]);
  });

  it('leaves slice uploads to the slice path', () => {
    const tiff = encodeTiff({ width: 4, height: 4, channels: 3, samples: pattern(48) });
    assert.equal(patientOfUploads(readUploads([part('files', 'a.tif', tiff)])), undefined);
  });

  it('refuses a sequence without FLAIR, one sent twice, a slice in a sequence field and a fake .nii', () => {
    assert.throws(
      () => patientOfUploads(readUploads([part('pre', 'pre.nii.gz', nifti)])),
      refused(400, /^pre\.nii\.gz: the FLAIR volume \(field 'flair'\) is required/),
    );
    assert.throws(
      () =>
        patientOfUploads(readUploads([part('flair', 'a.nii.gz', nifti), part('flair', 'b.nii.gz', nifti)])),
      refused(400, /^b\.nii\.gz: a second 'flair' volume/),
    );
    const tiff = encodeTiff({ width: 4, height: 4, channels: 3, samples: pattern(48) });
    assert.throws(
      () => readUploads([part('flair', 'slice.tif', tiff)]),
      refused(415, /^slice\.tif: not a NIfTI volume for field 'flair'/),
    );
    assert.throws(
      () => readUploads([part('files', 'notes.nii', new TextEncoder().encode('x'.repeat(400)))]),
      refused(415, /^notes\.nii: not a NIfTI volume/),
    );
  });
});
