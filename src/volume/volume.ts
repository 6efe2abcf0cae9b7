// An MRI volume as the readers return it (NIfTI files, DICOM series) and as the mask writer needs it back: the
// voxels in the file's own array order, the affine that places them in the patient (RAS+, millimetres), and the
// header fields a mask must carry to lie exactly over its input in NiiVue, ITK-SNAP or nibabel.

/** 4×4 row-major matrix: voxel (i, j, k, 1) → world (x, y, z, 1), x to the patient's Right, y Anterior, z Superior. */
export type Affine = readonly [
  readonly [number, number, number, number],
  readonly [number, number, number, number],
  readonly [number, number, number, number],
  readonly [number, number, number, number],
];

/** The NIfTI-1 fields that say where the voxels are: copied into every volume written for this input. */
export interface NiftiSpace {
  qformCode: number;
  sformCode: number;
  /** quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z. */
  quatern: readonly [number, number, number, number, number, number];
  /** pixdim[0]: −1 or 1, the handedness of the qform. */
  qfac: number;
  /** pixdim[1..3]: voxel size along i, j, k. */
  pixdim: readonly [number, number, number];
  /** srow_x, srow_y, srow_z. */
  srow: readonly [readonly number[], readonly number[], readonly number[]];
  /** xyzt_units (spatial and temporal units). */
  xyztUnits: number;
}

export interface Volume {
  /** The file or folder it was read from: errors and summaries name it. */
  source: string;
  /** Voxels along i, j, k (the first three array dimensions). */
  dims: readonly [number, number, number];
  /** Values per voxel: the fourth dimension (1 for a 3-D volume). */
  channels: number;
  /**
   * The values (scl_slope/inter or RescaleSlope/Intercept applied), channel after channel, each in the array order
   * of the file: index c·nx·ny·nz + k·nx·ny + j·nx + i.
   */
  data: Float32Array;
  /** Stored as 8-bit samples: taken to be on the dataset's 8-bit scale already (see intensity.ts). */
  eightBit: boolean;
  affine: Affine;
  /** Millimetres between voxel centres along i, j, k; null when the file carries no spacing. */
  spacing: readonly [number, number, number] | null;
  space: NiftiSpace;
}

/** Voxels of one channel. */
export function voxelCount(volume: Pick<Volume, 'dims'>): number {
  const [nx, ny, nz] = volume.dims;
  return nx * ny * nz;
}

/** The volume of one voxel in mm³, or null without spacing. */
export function voxelVolume(volume: Pick<Volume, 'spacing'>): number | null {
  if (!volume.spacing) return null;
  const [dx, dy, dz] = volume.spacing;
  return dx * dy * dz;
}

/** Column c of the affine's 3×3 part: where one step along voxel axis c goes in the world. */
export function axisVector(affine: Affine, c: 0 | 1 | 2): [number, number, number] {
  return [affine[0][c], affine[1][c], affine[2][c]];
}

/** The qform's matrix (NIfTI-1 method 2: quaternion, pixdim and qfac), as nifti1_io.c computes it. */
export function qformAffine(space: NiftiSpace): Affine {
  const [b, c, d, qx, qy, qz] = space.quatern;
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const qfac = space.qfac < 0 ? -1 : 1;
  const [dx, dy, dz] = space.pixdim;
  const row = (k: number, offset: number) =>
    [r[k]![0]! * dx, r[k]![1]! * dy, r[k]![2]! * dz * qfac, offset] as const;
  return [row(0, qx), row(1, qy), row(2, qz), [0, 0, 0, 1]];
}

/**
 * The affine a reader should use, as nibabel and ITK do: the sform when its code is set, else the qform, else
 * (an Analyze-style header) the pixdim scales alone.
 */
export function spaceAffine(space: NiftiSpace): Affine {
  if (space.sformCode > 0) {
    const [x, y, z] = space.srow;
    const row = (r: readonly number[]) => [r[0]!, r[1]!, r[2]!, r[3]!] as const;
    return [row(x), row(y), row(z), [0, 0, 0, 1]];
  }
  if (space.qformCode > 0) return qformAffine(space);
  const [dx, dy, dz] = space.pixdim;
  return [
    [dx, 0, 0, 0],
    [0, dy, 0, 0],
    [0, 0, dz, 0],
    [0, 0, 0, 1],
  ];
}

/**
 * A NiftiSpace holding `affine` as its sform (scanner coordinates), with no qform: how volumes that come with an
 * affine and no NIfTI header (DICOM series, tests) are written.
 */
export function spaceOfAffine(affine: Affine, sformCode = 1): NiftiSpace {
  const norm = (c: 0 | 1 | 2) => Math.hypot(...axisVector(affine, c));
  return {
    qformCode: 0,
    sformCode,
    quatern: [0, 0, 0, 0, 0, 0],
    qfac: 1,
    pixdim: [norm(0), norm(1), norm(2)],
    srow: [affine[0].slice(), affine[1].slice(), affine[2].slice()],
    xyztUnits: 2, // millimetres
  };
}
