// Axial slices of a volume as the dataset's TIFFs show them, worked out from the affine and never from the array
// order (a DICOM series is usually stored L→R, A→P; a NIfTI from dcm2niix R→L or L→R, P→A; a sagittal series has
// its slices along R–L): slices across the Inferior–Superior axis, anterior at the top of each slice, and the
// patient's right on the image's left (radiological convention), as in the LGG dataset. The mapping is a
// permutation with flips, so a mask drawn on the slices goes back into the input's voxel grid exactly.
import { VolumeError } from '../data/errors.ts';
import { type Affine, axisVector } from './volume.ts';

/** Where a voxel index grows towards: the patient's Right, Left, Anterior, Posterior, Superior or Inferior. */
export type AxisCode = 'R' | 'L' | 'A' | 'P' | 'S' | 'I';

const POSITIVE: readonly AxisCode[] = ['R', 'A', 'S'];
const NEGATIVE: readonly AxisCode[] = ['L', 'P', 'I'];

export interface AxisCodes {
  /** For voxel axes i, j, k: e.g. ['L', 'P', 'S'] for a DICOM-ordered (LPS) array. */
  codes: [AxisCode, AxisCode, AxisCode];
  /** The largest angle in degrees between a voxel axis and the world axis it was given (0 for a straight scan). */
  obliqueDegrees: number;
}

/**
 * The world direction of each voxel axis, the nearest of R/L, A/P and S/I to its column of the affine (as
 * nibabel's aff2axcodes). Two voxel axes nearest to the same world axis (a volume tilted by 45°) or an axis of
 * zero length cannot be sliced axially: a VolumeError naming `file`.
 */
export function axisCodes(affine: Affine, file: string): AxisCodes {
  const codes: AxisCode[] = [];
  const taken = new Set<number>();
  let obliqueDegrees = 0;
  for (const c of [0, 1, 2] as const) {
    const v = axisVector(affine, c);
    const length = Math.hypot(...v);
    if (!(length > 0) || !Number.isFinite(length)) {
      throw new VolumeError(file, `the affine gives voxel axis ${'ijk'[c]} no length (${v.join(', ')})`);
    }
    let w = 0;
    for (let k = 1; k < 3; k++) if (Math.abs(v[k]!) > Math.abs(v[w]!)) w = k;
    if (taken.has(w)) {
      throw new VolumeError(
        file,
        `the affine points two voxel axes along the same body axis (${affine
          .slice(0, 3)
          .map((r) => r.slice(0, 3).join(' '))
          .join('; ')}): no axial slicing`,
      );
    }
    taken.add(w);
    codes.push((v[w]! > 0 ? POSITIVE : NEGATIVE)[w]!);
    const degrees = (Math.acos(Math.min(1, Math.abs(v[w]!) / length)) * 180) / Math.PI;
    obliqueDegrees = Math.max(obliqueDegrees, degrees);
  }
  return { codes: codes as [AxisCode, AxisCode, AxisCode], obliqueDegrees };
}

/**
 * How axial slices are cut from a volume's array: slice `s` is voxel index s along `sliceAxis` (the file's own
 * order, whichever way it runs); pixel (x, y) of a slice is voxel index x along `columnAxis` (counted from the
 * other end when `columnFlip`) and y along `rowAxis` (likewise with `rowFlip`).
 */
export interface AxialLayout {
  codes: AxisCodes['codes'];
  obliqueDegrees: number;
  sliceAxis: 0 | 1 | 2;
  columnAxis: 0 | 1 | 2;
  rowAxis: 0 | 1 | 2;
  columnFlip: boolean;
  rowFlip: boolean;
  /** Slice size and count. */
  width: number;
  height: number;
  depth: number;
  /** Does slice number grow towards Superior (true) or Inferior? */
  sliceUp: boolean;
}

export function axialLayout(
  affine: Affine,
  dims: readonly [number, number, number],
  file: string,
): AxialLayout {
  const { codes, obliqueDegrees } = axisCodes(affine, file);
  const find = (a: AxisCode, b: AxisCode) => codes.findIndex((c) => c === a || c === b) as 0 | 1 | 2;
  const sliceAxis = find('S', 'I');
  const columnAxis = find('R', 'L');
  const rowAxis = find('A', 'P');
  return {
    codes,
    obliqueDegrees,
    sliceAxis,
    columnAxis,
    rowAxis,
    // Columns run from the patient's right to left, rows from anterior to posterior.
    columnFlip: codes[columnAxis] === 'R',
    rowFlip: codes[rowAxis] === 'A',
    width: dims[columnAxis],
    height: dims[rowAxis],
    depth: dims[sliceAxis],
    sliceUp: codes[sliceAxis] === 'S',
  };
}

/**
 * For each pixel of an axial slice (row-major, width × height), the index of its voxel in slice 0 of one channel
 * of the array; slice s adds s × `sliceStride`.
 */
export function slicePixelOffsets(
  layout: AxialLayout,
  dims: readonly [number, number, number],
): { offsets: Uint32Array; sliceStride: number } {
  const strides = [1, dims[0], dims[0] * dims[1]] as const;
  const { width, height, columnAxis, rowAxis, columnFlip, rowFlip } = layout;
  const offsets = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = (rowFlip ? height - 1 - y : y) * strides[rowAxis];
    for (let x = 0; x < width; x++) {
      offsets[y * width + x] = row + (columnFlip ? width - 1 - x : x) * strides[columnAxis];
    }
  }
  return { offsets, sliceStride: strides[layout.sliceAxis] };
}
