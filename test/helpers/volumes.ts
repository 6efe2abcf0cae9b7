// Small NIfTI files and DICOM series made by the tests, written byte by byte here (not with src/volume's own
// writer), so that reading is checked against the formats and not against ourselves. A phantom in world space
// (RAS millimetres) is sampled on voxel grids of any orientation, so that one anatomy can be stored many ways.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AxisCode } from '../../src/volume/orientation.ts';
import type { Affine } from '../../src/volume/volume.ts';

const DIRECTION: Record<AxisCode, [number, number]> = {
  R: [0, 1],
  L: [0, -1],
  A: [1, 1],
  P: [1, -1],
  S: [2, 1],
  I: [2, -1],
};

/** A world box centred on 0: `size[w]` voxels of `spacing[w]` mm along x (R), y (A) and z (S). */
export interface WorldGrid {
  size: readonly [number, number, number];
  spacing: readonly [number, number, number];
}

/**
 * The affine storing `grid` with voxel axes i, j, k pointing along `codes` (e.g. L, P, S for DICOM's order),
 * and the voxel counts along i, j, k.
 */
export function gridAffine(
  grid: WorldGrid,
  codes: readonly [AxisCode, AxisCode, AxisCode],
): { affine: Affine; dims: [number, number, number] } {
  const rows = [0, 1, 2].map(() => [0, 0, 0, 0]);
  const dims: number[] = [];
  codes.forEach((code, c) => {
    const [w, sign] = DIRECTION[code];
    rows[w]![c] = sign * grid.spacing[w]!;
    dims.push(grid.size[w]!);
    // Voxel 0 sits at the end of the box the axis starts from.
    rows[w]![3] = -sign * ((grid.size[w]! - 1) / 2) * grid.spacing[w]!;
  });
  const row = (r: number[]) => [r[0]!, r[1]!, r[2]!, r[3]!] as const;
  return {
    affine: [row(rows[0]!), row(rows[1]!), row(rows[2]!), [0, 0, 0, 1]],
    dims: dims as [number, number, number],
  };
}

/** Samples f(x, y, z) (world mm) at every voxel centre, i fastest. */
export function sample(
  affine: Affine,
  dims: readonly [number, number, number],
  f: (x: number, y: number, z: number) => number,
): Float32Array {
  const [nx, ny, nz] = dims;
  const out = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const w = [0, 1, 2].map(
          (r) => affine[r]![0] * i + affine[r]![1] * j + affine[r]![2] * k + affine[r]![3],
        );
        out[i + nx * (j + ny * k)] = f(w[0]!, w[1]!, w[2]!);
      }
  return out;
}

const NIFTI_TYPES = {
  uint8: [2, 8],
  int16: [4, 16],
  uint16: [512, 16],
  float32: [16, 32],
  float64: [64, 64],
} as const;

export interface TestNifti {
  /** dim[1..]: e.g. [x, y, z] or [x, y, z, 3]. */
  shape: readonly number[];
  type: keyof typeof NIFTI_TYPES;
  /** Values in file order (x fastest, then y, z, channel). */
  values: ArrayLike<number>;
  /** Written as the sform (code 1) unless `qform` is given. */
  affine?: Affine;
  /** Written as the qform (code 1): quatern b, c, d, offsets x, y, z, qfac, pixdim 1..3. */
  qform?: { quatern: readonly number[]; qfac: number; pixdim: readonly number[] };
  /** Both codes 0 and these pixdims (an Analyze-style header). */
  pixdim?: readonly number[];
  slope?: number;
  inter?: number;
  bigEndian?: boolean;
  gzip?: boolean;
}

/** The bytes of a single-file NIfTI-1 volume. */
export function testNiftiBytes(o: TestNifti): Uint8Array {
  const [code, bits] = NIFTI_TYPES[o.type];
  const le = !o.bigEndian;
  const n = o.values.length;
  const buffer = new ArrayBuffer(352 + (n * bits) / 8);
  const view = new DataView(buffer);
  view.setInt32(0, 348, le);
  view.setInt16(40, o.shape.length, le);
  o.shape.forEach((d, k) => {
    view.setInt16(42 + 2 * k, d, le);
  });
  for (let k = o.shape.length; k < 7; k++) view.setInt16(42 + 2 * k, 1, le);
  view.setInt16(70, code, le);
  view.setInt16(72, bits, le);
  const norms = o.affine
    ? [0, 1, 2].map((c) => Math.hypot(o.affine![0][c]!, o.affine![1][c]!, o.affine![2][c]!))
    : [1, 1, 1];
  const pixdim = o.qform?.pixdim ?? o.pixdim ?? norms;
  [o.qform?.qfac ?? 1, ...pixdim].forEach((v, k) => {
    view.setFloat32(76 + 4 * k, v, le);
  });
  view.setFloat32(108, 352, le);
  view.setFloat32(112, o.slope ?? 1, le);
  view.setFloat32(116, o.inter ?? 0, le);
  view.setUint8(123, 2);
  if (o.qform) {
    view.setInt16(252, 1, le);
    o.qform.quatern.forEach((v, k) => {
      view.setFloat32(256 + 4 * k, v, le);
    });
  }
  if (o.affine && !o.qform) {
    view.setInt16(254, 1, le);
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 4; c++) view.setFloat32(280 + (r * 4 + c) * 4, o.affine[r]![c]!, le);
  }
  new Uint8Array(buffer).set([0x6e, 0x2b, 0x31, 0], 344);
  for (let i = 0; i < n; i++) {
    const v = o.values[i]!;
    const at = 352 + (i * bits) / 8;
    if (o.type === 'uint8') view.setUint8(at, v);
    else if (o.type === 'int16') view.setInt16(at, v, le);
    else if (o.type === 'uint16') view.setUint16(at, v, le);
    else if (o.type === 'float32') view.setFloat32(at, v, le);
    else view.setFloat64(at, v, le);
  }
  const bytes = new Uint8Array(buffer);
  return o.gzip === false ? bytes : gzipSync(bytes);
}

// DICOM: explicit VR little endian Part 10 files with the elements a series reader needs.

function element(group: number, elem: number, vr: string, value: Uint8Array): Uint8Array {
  const long = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(vr);
  const padded = value.length % 2 ? new Uint8Array([...value, vr === 'UI' ? 0 : 0x20]) : value;
  const head = new DataView(new ArrayBuffer(long ? 12 : 8));
  head.setUint16(0, group, true);
  head.setUint16(2, elem, true);
  head.setUint8(4, vr.charCodeAt(0));
  head.setUint8(5, vr.charCodeAt(1));
  if (long) head.setUint32(8, padded.length, true);
  else head.setUint16(6, padded.length, true);
  return new Uint8Array([...new Uint8Array(head.buffer), ...padded]);
}
const text = (s: string) => new TextEncoder().encode(s);
const us = (v: number) => new Uint8Array(new Uint16Array([v]).buffer);
const ds = (values: readonly number[]) => text(values.map((v) => String(+v.toFixed(6))).join('\\'));

export interface TestDicomSlice {
  rows: number;
  columns: number;
  /** Row direction then column direction (LPS). */
  orientation: readonly number[];
  position: readonly number[];
  /** Row spacing, column spacing (mm). */
  pixelSpacing: readonly [number, number];
  /** rows × columns samples, row after row. */
  pixels: ArrayLike<number>;
  series?: string;
  slope?: number;
  intercept?: number;
  transferSyntax?: string;
}

export function testDicomBytes(s: TestDicomSlice): Uint8Array {
  const syntax = s.transferSyntax ?? '1.2.840.10008.1.2.1';
  const meta = [element(0x0002, 0x0010, 'UI', text(syntax))];
  const metaLength = meta.reduce((n, e) => n + e.length, 0);
  const pixels = new Uint16Array(s.rows * s.columns);
  for (let i = 0; i < pixels.length; i++) pixels[i] = s.pixels[i]!;
  const body = [
    element(0x0002, 0x0000, 'UL', new Uint8Array(new Uint32Array([metaLength]).buffer)),
    ...meta,
    element(0x0008, 0x0060, 'CS', text('MR')),
    element(0x0008, 0x103e, 'LO', text('FLAIR')),
    element(0x0020, 0x000e, 'UI', text(s.series ?? '1.2.3.4')),
    element(0x0020, 0x0032, 'DS', ds(s.position)),
    element(0x0020, 0x0037, 'DS', ds(s.orientation)),
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0010, 'US', us(s.rows)),
    element(0x0028, 0x0011, 'US', us(s.columns)),
    element(0x0028, 0x0030, 'DS', ds(s.pixelSpacing)),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0103, 'US', us(0)),
    ...(s.intercept !== undefined ? [element(0x0028, 0x1052, 'DS', ds([s.intercept]))] : []),
    ...(s.slope !== undefined ? [element(0x0028, 0x1053, 'DS', ds([s.slope]))] : []),
    element(0x7fe0, 0x0010, 'OW', new Uint8Array(pixels.buffer)),
  ];
  const preamble = new Uint8Array(132);
  preamble.set(text('DICM'), 128);
  const out = new Uint8Array(132 + body.reduce((n, e) => n + e.length, 0));
  out.set(preamble);
  let at = 132;
  for (const e of body) {
    out.set(e, at);
    at += e.length;
  }
  return out;
}

/**
 * The files of a series of `dims[2]` axial-ish slices for the voxel grid (i = column, j = row, k = slice) of
 * `affine` (RAS), each named so that file order is not slice order. Values are whole numbers.
 */
export function testDicomSeries(
  affine: Affine,
  dims: readonly [number, number, number],
  values: ArrayLike<number>,
  extra: Partial<TestDicomSlice> = {},
): { name: string; bytes: Uint8Array }[] {
  const [nx, ny, nz] = dims;
  const lps = (r: number, c: number) => (r < 2 ? -1 : 1) * affine[r]![c]!;
  const column = [0, 1, 2].map((r) => lps(r, 0));
  const row = [0, 1, 2].map((r) => lps(r, 1));
  const dx = Math.hypot(...column);
  const dy = Math.hypot(...row);
  return Array.from({ length: nz }, (_, k) => ({
    name: `IM${String((k * 7) % nz).padStart(4, '0')}-${k}`,
    bytes: testDicomBytes({
      rows: ny,
      columns: nx,
      orientation: [...column.map((v) => v / dx), ...row.map((v) => v / dy)],
      position: [0, 1, 2].map((r) => lps(r, 2) * k + lps(r, 3)),
      pixelSpacing: [dy, dx],
      pixels: Array.from({ length: nx * ny }, (_, p) => values[k * nx * ny + p]!),
      ...extra,
    }),
  }));
}

/** testDicomSeries written into `folder`; the files' paths. */
export function writeTestDicomSeries(
  folder: string,
  affine: Affine,
  dims: readonly [number, number, number],
  values: ArrayLike<number>,
  extra: Partial<TestDicomSlice> = {},
): string[] {
  mkdirSync(folder, { recursive: true });
  return testDicomSeries(affine, dims, values, extra).map(({ name, bytes }) => {
    const file = join(folder, name);
    writeFileSync(file, bytes);
    return file;
  });
}
