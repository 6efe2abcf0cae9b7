// NIfTI volumes in (`.nii`, `.nii.gz`; NIfTI-1 and -2, decoded by nifti-reader-js) and out (NIfTI-1 written
// here: a 348-byte header and the voxels, gzip'd). Masks are written with the input's own qform, sform and pixdim
// so that they lie on the input voxel for voxel in any viewer. Errors are VolumeErrors naming the file.
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { DataError, VolumeError } from '../data/errors.ts';
import { axisVector, type NiftiSpace, spaceAffine, type Volume } from './volume.ts';

/**
 * The most bytes a volume may decompress to: 64 M voxels (512 × 512 × 256) of one 4-byte channel, or three
 * channels of 16-bit samples and more. A gzip bomb stops here instead of filling memory.
 */
export const MAX_VOLUME_BYTES = 384 * 1024 * 1024;

/** The most voxels one channel may have (512 × 512 × 256). */
export const MAX_VOLUME_VOXELS = 64 * 1024 * 1024;

/** Is the file name a NIfTI volume's? */
export function isNiftiName(name: string): boolean {
  return /\.nii(\.gz)?$/i.test(name);
}

/** The name without .nii / .nii.gz: a patient's name when a volume is all it has. */
export function niftiStem(name: string): string {
  const file = name.split(/[\\/]/).pop() ?? name;
  return file.replace(/\.nii(\.gz)?$/i, '');
}

interface NiftiType {
  bytes: number;
  /** A typed array over little-endian samples (copied into `buffer` when `offset` is misaligned for it). */
  view: (buffer: ArrayBuffer, offset: number, length: number) => ArrayLike<number>;
  read: (view: DataView, offset: number, littleEndian: boolean) => number;
}

type ArrayType = new (buffer: ArrayBuffer, offset: number, length: number) => ArrayLike<number>;
const aligned =
  (Type: ArrayType, bytes: number) =>
  (buffer: ArrayBuffer, offset: number, length: number): ArrayLike<number> =>
    offset % bytes === 0
      ? new Type(buffer, offset, length)
      : new Type(buffer.slice(offset, offset + length * bytes), 0, length);

const TYPES: Record<number, NiftiType> = {
  2: { bytes: 1, view: aligned(Uint8Array, 1), read: (v, o) => v.getUint8(o) },
  4: { bytes: 2, view: aligned(Int16Array, 2), read: (v, o, le) => v.getInt16(o, le) },
  8: { bytes: 4, view: aligned(Int32Array, 4), read: (v, o, le) => v.getInt32(o, le) },
  16: { bytes: 4, view: aligned(Float32Array, 4), read: (v, o, le) => v.getFloat32(o, le) },
  64: { bytes: 8, view: aligned(Float64Array, 8), read: (v, o, le) => v.getFloat64(o, le) },
  256: { bytes: 1, view: aligned(Int8Array, 1), read: (v, o) => v.getInt8(o) },
  512: { bytes: 2, view: aligned(Uint16Array, 2), read: (v, o, le) => v.getUint16(o, le) },
  768: { bytes: 4, view: aligned(Uint32Array, 4), read: (v, o, le) => v.getUint32(o, le) },
};

const UINT8 = 2;
const FLOAT32 = 16;

function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_VOLUME_BYTES + 64 * 1024 });
  } catch (err) {
    const tooLarge = err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new VolumeError(
      file,
      tooLarge
        ? `decompresses to more than ${MAX_VOLUME_BYTES / 1024 / 1024} MiB, more than one volume may hold`
        : `is not valid gzip (${(err as Error).message}): truncated or corrupt`,
      { cause: err },
    );
  }
}

/** The srow_* vectors as stored (nifti-reader-js keeps only the affine it prefers, which may be the qform). */
function readSrow(view: DataView, version: 1 | 2, littleEndian: boolean): NiftiSpace['srow'] {
  const rows: number[][] = [];
  for (let r = 0; r < 3; r++) {
    const row: number[] = [];
    for (let c = 0; c < 4; c++) {
      row.push(
        version === 1
          ? view.getFloat32(280 + (r * 4 + c) * 4, littleEndian)
          : view.getFloat64(400 + (r * 4 + c) * 8, littleEndian),
      );
    }
    rows.push(row);
  }
  return rows as unknown as NiftiSpace['srow'];
}

/** Decodes a NIfTI file's bytes (gzip'd or not) into a Volume; `file` names it in errors. */
export function parseNifti(fileBytes: Uint8Array, file: string): Volume {
  const bytes = fileBytes[0] === 0x1f && fileBytes[1] === 0x8b ? gunzip(fileBytes, file) : fileBytes;
  // nifti-reader-js takes an ArrayBuffer: copied only where the bytes are a view into a larger one.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const buffer = (
    whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  ) as ArrayBuffer;
  if (buffer.byteLength < 348 || !nifti.isNIFTI(buffer)) {
    const pair = buffer.byteLength >= 348 && new TextDecoder().decode(bytes.subarray(344, 347)) === 'ni1';
    throw new VolumeError(
      file,
      pair
        ? 'is the header of a .hdr/.img pair: give the volume as one .nii or .nii.gz file'
        : 'is not a NIfTI-1 or NIfTI-2 file (no n+1/n+2 magic in its header)',
    );
  }
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    header = nifti.readHeader(buffer);
  } catch (err) {
    throw new VolumeError(file, `has an unreadable NIfTI header (${(err as Error).message})`, { cause: err });
  }
  const version = header instanceof nifti.NIFTI2 ? 2 : 1;
  const dims = header.dims;
  const rank = dims[0]!;
  const shape = dims.slice(1, 1 + rank);
  if (rank < 1 || rank > 7 || shape.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new VolumeError(file, `has impossible dimensions ${dims.join(' ')} in its header`);
  }
  const [nx = 1, ny = 1, nz = 1] = shape;
  if (rank < 3 || nz === 1) {
    throw new VolumeError(
      file,
      `is a 2-D image (${shape.join('×')}): a volume needs several slices; give single slices as TIFF or PNG`,
    );
  }
  // Channels: the 4th dimension, or the 5th with a 4th of 1 (ITK writes vector images so).
  const extra = shape.slice(3);
  const channels = extra.reduce((a, b) => a * b, 1);
  if (extra.filter((n) => n > 1).length > 1) {
    throw new VolumeError(file, `has dimensions ${shape.join('×')}: expected x×y×z or x×y×z×channels`);
  }
  const type = TYPES[header.datatypeCode];
  if (!type) {
    throw new VolumeError(
      file,
      `stores voxels as ${header.getDatatypeCodeString(header.datatypeCode) || `type ${header.datatypeCode}`}; ` +
        'tumorscope reads integer and float scalar volumes',
    );
  }
  const voxels = nx * ny * nz;
  if (voxels > MAX_VOLUME_VOXELS) {
    throw new VolumeError(
      file,
      `has ${nx}×${ny}×${nz} voxels, more than the ${MAX_VOLUME_VOXELS / 1024 / 1024} M (512×512×256) one volume may have`,
    );
  }
  const expected = voxels * channels * type.bytes;
  const offset = Number(header.vox_offset);
  if (offset + expected > buffer.byteLength) {
    throw new VolumeError(
      file,
      `holds ${Math.max(0, buffer.byteLength - offset)} bytes of voxels where its header declares ` +
        `${nx}×${ny}×${nz}×${channels} of ${type.bytes} bytes (${expected}): truncated`,
    );
  }
  const data = new Float32Array(voxels * channels);
  const le = header.littleEndian;
  if (le) {
    // Typed arrays read the machine's byte order, little-endian wherever Node runs.
    data.set(type.view(buffer, offset, data.length));
  } else {
    const view = new DataView(buffer, offset, expected);
    for (let i = 0, o = 0; i < data.length; i++, o += type.bytes) data[i] = type.read(view, o, le);
  }
  const slope = header.scl_slope;
  const inter = header.scl_inter;
  const scaled =
    Number.isFinite(slope) && slope !== 0 && (slope !== 1 || (Number.isFinite(inter) && inter !== 0));
  if (scaled) {
    const b = Number.isFinite(inter) ? inter : 0;
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * slope + b;
  }
  const fullView = new DataView(buffer);
  const space: NiftiSpace = {
    qformCode: header.qform_code,
    sformCode: header.sform_code,
    quatern: [
      header.quatern_b,
      header.quatern_c,
      header.quatern_d,
      header.qoffset_x,
      header.qoffset_y,
      header.qoffset_z,
    ],
    qfac: header.pixDims[0]! < 0 ? -1 : 1,
    pixdim: [header.pixDims[1]!, header.pixDims[2]!, header.pixDims[3]!],
    srow: readSrow(fullView, version, le),
    xyztUnits: header.xyzt_units,
  };
  const known = (n: number) => Number.isFinite(n) && n > 0;
  const oriented = space.sformCode > 0 || space.qformCode > 0;
  // Without a qform or sform, the pixdims alone place the voxels; when they are missing too, there is no spacing.
  const affine =
    oriented || space.pixdim.every(known) ? spaceAffine(space) : spaceAffine({ ...space, pixdim: [1, 1, 1] });
  const norms = ([0, 1, 2] as const).map((c) => Math.hypot(...axisVector(affine, c)));
  const spacing =
    norms.every(known) && (oriented || space.pixdim.every(known))
      ? (norms as [number, number, number])
      : null;
  return {
    source: file,
    dims: [nx, ny, nz],
    channels,
    data,
    eightBit: header.datatypeCode === UINT8 && !scaled,
    affine,
    spacing,
    space,
  };
}

/** Reads a NIfTI file; errors name it. */
export function readNifti(path: string): Volume {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new DataError(
      code === 'ENOENT' ? 'not-found' : 'bad-volume',
      path,
      `cannot be read (${code ?? err})`,
      {
        cause: err,
      },
    );
  }
  return parseNifti(bytes, path);
}

export interface NiftiImage {
  dims: readonly [number, number, number];
  /** Values per voxel, the fourth dimension (default 1: a 3-D volume); channel after channel in `data`. */
  channels?: number;
  /** Voxels in array order (i fastest): bytes for a mask, floats for probabilities. */
  data: Uint8Array | Float32Array;
  space: NiftiSpace;
  /** The top of the display range (cal_max); default 1, the range of masks and probabilities. */
  displayMax?: number;
  description?: string;
}

/** A NIfTI-1 file (single .nii, gzip'd) of one 3-D channel, or several as a 4-D volume, in `space`. */
export function niftiBytes(image: NiftiImage): Uint8Array {
  const [nx, ny, nz] = image.dims;
  const channels = image.channels ?? 1;
  if (image.data.length !== nx * ny * nz * channels) {
    throw new RangeError(`${image.data.length} voxels for a ${nx}×${ny}×${nz}×${channels} volume`);
  }
  const float = image.data instanceof Float32Array;
  const header = new ArrayBuffer(352);
  const view = new DataView(header);
  const bytes = new Uint8Array(header);
  const { space } = image;
  view.setInt32(0, 348, true);
  bytes[38] = 0x72; // 'r': "regular", as nifti1_io writes
  [channels > 1 ? 4 : 3, nx, ny, nz, channels, 1, 1, 1].forEach((n, k) => {
    view.setInt16(40 + 2 * k, n, true);
  });
  view.setInt16(70, float ? FLOAT32 : UINT8, true);
  view.setInt16(72, float ? 32 : 8, true);
  [space.qfac, ...space.pixdim, 0, 0, 0, 0].forEach((n, k) => {
    view.setFloat32(76 + 4 * k, n, true);
  });
  view.setFloat32(108, 352, true); // vox_offset
  view.setFloat32(112, 1, true); // scl_slope
  bytes[123] = space.xyztUnits;
  view.setFloat32(124, image.displayMax ?? 1, true); // cal_max: the range viewers show
  bytes.set(new TextEncoder().encode((image.description ?? '').slice(0, 79)), 148);
  view.setInt16(252, space.qformCode, true);
  view.setInt16(254, space.sformCode, true);
  space.quatern.forEach((n, k) => {
    view.setFloat32(256 + 4 * k, n, true);
  });
  space.srow.forEach((row, r) => {
    row.forEach((n, c) => {
      view.setFloat32(280 + (r * 4 + c) * 4, n, true);
    });
  });
  bytes.set(new TextEncoder().encode('n+1\0'), 344);
  // The floats' bytes as they are in memory: little-endian on every machine Node runs on.
  const voxels = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const file = new Uint8Array(352 + voxels.length);
  file.set(bytes, 0);
  file.set(voxels, 352);
  return gzipSync(file, { level: 6 });
}
