// Where a patient's slices lie in the volume the planes and the 3-D view show, and that volume built from slices
// when there is no NIfTI to show (TIFF, PNG or JPEG slices carry no affine). Pure, no DOM, no NiiVue.
import { outlineOf } from './mask-overlay.ts';

export type VoxelAxis = 0 | 1 | 2;

/**
 * The axis of the voxel array that axial slices are cut across, and whether the slice number grows towards
 * Superior. Slice s is voxel index s along `axis` (src/volume/orientation.ts cuts NIfTI volumes so).
 */
export interface AxialAxis {
  axis: VoxelAxis;
  /** Number of slices along the axis. */
  depth: number;
  up: boolean;
}

/** The axial axis of a volume from its orientation codes, one letter per voxel axis ('LPS', 'RAS', 'PIR'…). */
export function axialAxisOf(orientation: string, dims: readonly number[]): AxialAxis {
  const codes = orientation.toUpperCase();
  const axis = [...codes].findIndex((c) => c === 'S' || c === 'I');
  if (codes.length !== 3 || axis < 0 || dims.length < 3)
    throw new Error(`orientation '${orientation}' names no Inferior–Superior voxel axis`);
  return { axis: axis as VoxelAxis, depth: dims[axis]!, up: codes[axis] === 'S' };
}

/**
 * The fraction along Inferior → Superior at the centre of slice `s`: NiiVue places its crosshair by fractions
 * of the volume in RAS order, whichever way the file stores it.
 */
export function fractionOfSlice(s: number, { depth, up }: AxialAxis): number {
  return ((up ? s : depth - 1 - s) + 0.5) / depth;
}

/** The slice at an Inferior → Superior fraction (the inverse of fractionOfSlice), clamped to the volume. */
export function sliceOfFraction(fraction: number, { depth, up }: AxialAxis): number {
  const fromBelow = Math.min(depth - 1, Math.max(0, Math.round(fraction * depth - 0.5)));
  return up ? fromBelow : depth - 1 - fromBelow;
}

/** One decoded slice: RGBA pixels (width × height × 4) and its 0/1 mask, or null when it has none. */
export interface SlicePixels {
  name: string;
  width: number;
  height: number;
  rgba: ArrayLike<number>;
  mask: ArrayLike<number> | null;
}

/** A volume stored as NIfTI stores it: x fastest, then y, z, then the frame (here: the channel). */
export interface SliceVolume {
  /** [x, y, z] voxels: slice width, height and count. */
  dims: [number, number, number];
  /** Voxel → world (RAS mm), 4 × 4 row-major in 16 numbers. */
  affine: number[];
  /** Three frames, the slices' R, G and B channels (pre-contrast, FLAIR, post-contrast in the dataset). */
  channels: Uint8Array;
  /** 0/1 per voxel. */
  mask: Uint8Array;
  axial: AxialAxis;
}

/**
 * The slices (in slice order) stacked into a volume of 1 mm voxels: slice images carry no spacing, so 1 mm is
 * assumed along every axis. Pixel (x, y) of slice k is voxel (x, y, k); as in the dataset's TIFFs, x runs from
 * the patient's right to left and y from anterior to posterior, and the slice number grows towards Superior (in
 * the dataset slice 1 lies at the skull base). The volume is centred on the world origin.
 */
export function volumeOfSlices(slices: readonly SlicePixels[]): SliceVolume {
  const first = slices[0];
  if (!first) throw new Error('no slices to stack into a volume');
  const { width, height } = first;
  const other = slices.find((s) => s.width !== width || s.height !== height);
  if (other) {
    throw new Error(
      `${other.name} is ${other.width}×${other.height} pixels where ${first.name} is ${width}×${height}: ` +
        'slices of different sizes make no volume',
    );
  }
  const depth = slices.length;
  const plane = width * height;
  const voxels = plane * depth;
  const channels = new Uint8Array(voxels * 3);
  const mask = new Uint8Array(voxels);
  slices.forEach((slice, k) => {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) channels[c * voxels + k * plane + p] = slice.rgba[4 * p + c] ?? 0;
      if (slice.mask) mask[k * plane + p] = (slice.mask[p] ?? 0) > 0 ? 1 : 0;
    }
  });
  // +x is towards the patient's left (−R), +y towards posterior (−A), +z towards superior.
  const affine = [
    [-1, 0, 0, (width - 1) / 2],
    [0, -1, 0, (height - 1) / 2],
    [0, 0, 1, -(depth - 1) / 2],
    [0, 0, 0, 1],
  ].flat();
  return { dims: [width, height, depth], affine, channels, mask, axial: { axis: 2, depth, up: true } };
}

/**
 * The border of a 0/1 volume within each axial slice (as the slice view's outline: tumour voxels with an
 * in-plane 4-neighbour outside), for a volume of `dims` stored x fastest.
 */
export function axialOutline(
  mask: ArrayLike<number>,
  dims: readonly [number, number, number],
  axis: VoxelAxis,
): Uint8Array {
  const strides = [1, dims[0], dims[0] * dims[1]];
  const [a, b] = ([0, 1, 2] as const).filter((d) => d !== axis) as [VoxelAxis, VoxelAxis];
  const width = dims[a];
  const height = dims[b];
  const out = new Uint8Array(dims[0] * dims[1] * dims[2]);
  const slice = new Uint8Array(width * height);
  for (let s = 0; s < dims[axis]; s++) {
    const base = s * strides[axis]!;
    const at = (u: number, v: number) => base + u * strides[a]! + v * strides[b]!;
    for (let v = 0; v < height; v++)
      for (let u = 0; u < width; u++) slice[v * width + u] = mask[at(u, v)] ?? 0;
    const border = outlineOf(slice, width, height);
    for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) out[at(u, v)] = border[v * width + u]!;
  }
  return out;
}
