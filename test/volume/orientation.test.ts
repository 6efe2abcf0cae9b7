// Axial slicing from the affine: one phantom stored in many voxel orders (RAS, LPS as DICOM, LAS, a sagittal
// series, a coronal one) must give the same axial slices, each with the patient's anterior at the top and the
// patient's right on the image's left, as the dataset's TIFFs; and masks drawn on them go back voxel for voxel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VolumeError } from '../../src/data/errors.ts';
import { type AxisCode, axialLayout, axisCodes } from '../../src/volume/orientation.ts';
import { axialSlices, patientFromChannels, toVoxelGrid } from '../../src/volume/patient-volume.ts';
import { spaceOfAffine, type Volume } from '../../src/volume/volume.ts';
import { gridAffine, sample, type WorldGrid } from '../helpers/volumes.ts';

const GRID: WorldGrid = { size: [5, 4, 3], spacing: [1, 2, 3] };

/** A different value at every world point of GRID: x, y and z can be read back from it. */
const phantom = (x: number, y: number, z: number) => 100 * (z / 3 + 1) + 10 * (y / 2 + 1.5) + (x + 2);

const ORDERS: [AxisCode, AxisCode, AxisCode][] = [
  ['R', 'A', 'S'],
  ['L', 'P', 'S'], // DICOM's patient order
  ['L', 'A', 'S'],
  ['R', 'P', 'I'],
  ['P', 'S', 'L'], // a sagittal series: slices along R–L
  ['R', 'S', 'P'], // a coronal series
  ['S', 'R', 'A'],
];

/** A 3-channel volume of the phantom (the same values in every channel) stored in `codes` order. */
function phantomVolume(codes: [AxisCode, AxisCode, AxisCode]): Volume {
  const { affine, dims } = gridAffine(GRID, codes);
  const one = sample(affine, dims, phantom);
  const data = new Float32Array(one.length * 3);
  for (let c = 0; c < 3; c++) data.set(one, c * one.length);
  return {
    source: codes.join(''),
    dims,
    channels: 3,
    data,
    eightBit: true,
    affine,
    spacing: [1, 1, 1],
    space: spaceOfAffine(affine),
  };
}

describe('axial slices from the affine', () => {
  it('names each voxel axis by the body direction it grows towards', () => {
    for (const codes of ORDERS) {
      assert.deepEqual(axisCodes(gridAffine(GRID, codes).affine, 'x.nii').codes, codes);
    }
  });

  it('shows anterior at the top and the patient’s right on the left, slices from the file’s order', () => {
    for (const codes of ORDERS) {
      const patient = patientFromChannels('p', phantomVolume(codes));
      const slices = axialSlices(patient);
      const { width, height, depth, sliceUp } = patient.layout;
      assert.deepEqual([width, height, depth], [5, 4, 3], codes.join(''));
      slices.forEach((slice, s) => {
        const z = (sliceUp ? s - 1 : 1 - s) * 3;
        for (let r = 0; r < height; r++) {
          for (let c = 0; c < width; c++) {
            // Column 0 is the patient's far right (largest x), row 0 the far front (largest y).
            const expected = phantom(2 - c, 3 - 2 * r, z);
            assert.equal(
              slice.image.data[(r * width + c) * 3 + 1],
              expected,
              `${codes.join('')} s${s} r${r} c${c}`,
            );
          }
        }
      });
    }
  });

  it('puts per-slice masks back on the input’s voxels', () => {
    for (const codes of ORDERS) {
      const volume = phantomVolume(codes);
      const patient = patientFromChannels('p', volume);
      const pictures = new Map(
        axialSlices(patient).map((slice) => {
          const first = new Uint8Array(slice.image.width * slice.image.height);
          for (let p = 0; p < first.length; p++) first[p] = slice.image.data[3 * p]!;
          return [slice.sliceNumber, first];
        }),
      );
      const back = toVoxelGrid(patient, pictures, (n) => new Uint8Array(n));
      assert.deepEqual(Array.from(back), Array.from(volume.data.subarray(0, back.length)), codes.join(''));
    }
  });

  it('refuses an affine with two voxel axes along one body axis, naming the file', () => {
    const tilted = [
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ] as const;
    assert.throws(
      () => axialLayout(tilted, [2, 2, 2], 'tilted.nii.gz'),
      (err) => err instanceof VolumeError && /^tilted\.nii\.gz: .*same body axis/.test(err.message),
    );
  });

  it('reports how oblique a volume is', () => {
    const a = (20 * Math.PI) / 180;
    const rotated = [
      [Math.cos(a), -Math.sin(a), 0, 0],
      [Math.sin(a), Math.cos(a), 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ] as const;
    const { codes, obliqueDegrees } = axisCodes(rotated, 'x.nii');
    assert.deepEqual(codes, ['R', 'A', 'S']);
    assert.ok(Math.abs(obliqueDegrees - 20) < 1e-9);
  });
});
