// A DICOM series (one sequence, one file per slice, as scanners and PACS exports give them), from a folder or from
// files in memory (an upload), read into a Volume with dicom-parser, one code path for both: slices ordered along
// the normal of their orientation, the affine from Image Position and Orientation (Patient) and Pixel Spacing,
// turned from DICOM's LPS into NIfTI's RAS. Uncompressed pixel data only (implicit or explicit VR); a compressed
// series gets an error saying how to decompress it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import dicomParser from 'dicom-parser';
import { DataError, VolumeError } from '../data/errors.ts';
import { naturalOrder } from '../data/slice-names.ts';
import { DICOM_HEAD_BYTES, isDicomBytes } from './dicom-magic.ts';
import { MAX_VOLUME_VOXELS } from './nifti.ts';
import { type Affine, spaceOfAffine, type Volume } from './volume.ts';

const TAG = {
  transferSyntax: 'x00020010',
  seriesUid: 'x0020000e',
  seriesDescription: 'x0008103e',
  rows: 'x00280010',
  columns: 'x00280011',
  samplesPerPixel: 'x00280002',
  bitsAllocated: 'x00280100',
  pixelRepresentation: 'x00280103',
  pixelSpacing: 'x00280030',
  orientation: 'x00200037',
  position: 'x00200032',
  slope: 'x00281053',
  intercept: 'x00281052',
  frames: 'x00280008',
  pixelData: 'x7fe00010',
} as const;

const UNCOMPRESSED = new Map([
  ['1.2.840.10008.1.2', true], // implicit VR little endian
  ['1.2.840.10008.1.2.1', true], // explicit VR little endian
  ['1.2.840.10008.1.2.2', false], // explicit VR big endian (retired)
]);

/** The most files a series may hold: more slices than prediction takes are refused later anyway. */
const MAX_SERIES_FILES = 2048;

/** Relative difference between slice gaps taken as equal (positions are decimal strings of a few digits). */
const GAP_TOLERANCE = 0.01;

interface DicomSlice {
  file: string;
  series: string;
  description: string;
  rows: number;
  columns: number;
  orientation: number[];
  position: number[];
  spacing: [number, number];
  values: Float32Array;
  eightBit: boolean;
}

function numbers(set: dicomParser.DataSet, tag: string, count: number, file: string, what: string): number[] {
  const found = Array.from({ length: count }, (_, k) => set.floatString(tag, k));
  if (found.some((n) => n === undefined || !Number.isFinite(n))) {
    throw new VolumeError(
      file,
      `has no ${what} (${tag.slice(1, 5)},${tag.slice(5)}): cannot place its slice`,
    );
  }
  return found as number[];
}

function parseSlice(bytes: Uint8Array, file: string): DicomSlice {
  let set: dicomParser.DataSet;
  try {
    set = dicomParser.parseDicom(bytes);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new VolumeError(file, `is not a readable DICOM file (${message})`, { cause: err });
  }
  const syntax = set.string(TAG.transferSyntax) ?? '1.2.840.10008.1.2';
  const littleEndian = UNCOMPRESSED.get(syntax);
  if (littleEndian === undefined) {
    throw new VolumeError(
      file,
      `holds compressed pixel data (transfer syntax ${syntax}); decompress the series first ` +
        '(e.g. `gdcmconv --raw` or `dcmdjpeg`)',
    );
  }
  if ((set.intString(TAG.frames) ?? 1) > 1) {
    throw new VolumeError(
      file,
      'is a multi-frame (enhanced) DICOM; convert it to NIfTI (e.g. dcm2niix) first',
    );
  }
  const rows = set.uint16(TAG.rows) ?? 0;
  const columns = set.uint16(TAG.columns) ?? 0;
  const bits = set.uint16(TAG.bitsAllocated) ?? 0;
  const samples = set.uint16(TAG.samplesPerPixel) ?? 1;
  if (rows < 1 || columns < 1) throw new VolumeError(file, 'has no Rows/Columns: not an image');
  if (samples !== 1) throw new VolumeError(file, `has ${samples} samples per pixel; an MR slice has 1`);
  if (bits !== 8 && bits !== 16) throw new VolumeError(file, `has ${bits}-bit samples; 8 or 16 expected`);
  const element = set.elements[TAG.pixelData];
  const count = rows * columns;
  if (!element || element.length < count * (bits / 8)) {
    throw new VolumeError(
      file,
      `holds ${element?.length ?? 0} bytes of pixels for ${columns}×${rows}: truncated`,
    );
  }
  const signed = set.uint16(TAG.pixelRepresentation) === 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset + element.dataOffset, count * (bits / 8));
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    values[i] =
      bits === 8
        ? signed
          ? view.getInt8(i)
          : view.getUint8(i)
        : signed
          ? view.getInt16(2 * i, littleEndian)
          : view.getUint16(2 * i, littleEndian);
  }
  const slope = set.floatString(TAG.slope) ?? 1;
  const intercept = set.floatString(TAG.intercept) ?? 0;
  if (slope !== 1 || intercept !== 0)
    for (let i = 0; i < count; i++) values[i] = values[i]! * slope + intercept;
  const [rowSpacing, columnSpacing] = numbers(set, TAG.pixelSpacing, 2, file, 'Pixel Spacing');
  return {
    file,
    series: set.string(TAG.seriesUid) ?? '',
    description: set.string(TAG.seriesDescription) ?? '',
    rows,
    columns,
    orientation: numbers(set, TAG.orientation, 6, file, 'Image Orientation (Patient)'),
    position: numbers(set, TAG.position, 3, file, 'Image Position (Patient)'),
    spacing: [rowSpacing!, columnSpacing!],
    values,
    eightBit: bits === 8 && !signed && slope === 1 && intercept === 0,
  };
}

const cross = (a: number[], b: number[]) => [
  a[1]! * b[2]! - a[2]! * b[1]!,
  a[2]! * b[0]! - a[0]! * b[2]!,
  a[0]! * b[1]! - a[1]! * b[0]!,
];
const dot = (a: number[], b: number[]) => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;

/** One file of a series: its name (shown in errors) and its bytes. */
export interface DicomFile {
  file: string;
  bytes: Uint8Array;
}

function tooManyFiles(source: string, count: number): VolumeError {
  return new VolumeError(source, `holds ${count} files; a series may hold at most ${MAX_SERIES_FILES}`);
}

/** The DICOM files of a folder (other files, e.g. a DICOMDIR's neighbours or notes, are passed over). */
function dicomFiles(folder: string): DicomFile[] {
  const names = readdirSync(folder)
    .filter((name) => !name.startsWith('.'))
    .sort(naturalOrder);
  if (names.length > MAX_SERIES_FILES) throw tooManyFiles(folder, names.length);
  return names.flatMap((name) => {
    const file = join(folder, name);
    if (!statSync(file).isFile()) return [];
    const bytes = readFileSync(file);
    return isDicomBytes(bytes) && name.toUpperCase() !== 'DICOMDIR' ? [{ file, bytes }] : [];
  });
}

/** Does the folder hold DICOM files (and so is read as one series rather than as slice images)? */
export function isDicomFolder(folder: string): boolean {
  try {
    if (!statSync(folder).isDirectory()) return false;
    for (const name of readdirSync(folder)) {
      const file = join(folder, name);
      if (name.startsWith('.') || !statSync(file).isFile()) continue;
      return isDicomBytes(readFileSync(file).subarray(0, DICOM_HEAD_BYTES));
    }
  } catch {
    return false;
  }
  return false;
}

/** Reads the one DICOM series in `folder` into a Volume; errors name the file or the folder. */
export function readDicomSeries(folder: string): Volume {
  let files: DicomFile[];
  try {
    files = dicomFiles(folder);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(
      'not-found',
      folder,
      `cannot be read as a DICOM series folder (${(err as Error).message})`,
      {
        cause: err,
      },
    );
  }
  return seriesVolume(folder, files);
}

/**
 * One DICOM series from files in memory (an upload), every one of them a DICOM slice; `source` names the series
 * in errors about it as a whole, each file's name in errors about that file.
 */
export function dicomSeriesOfFiles(source: string, files: readonly DicomFile[]): Volume {
  if (files.length > MAX_SERIES_FILES) throw tooManyFiles(source, files.length);
  for (const { file, bytes } of files) {
    if (!isDicomBytes(bytes)) {
      throw new VolumeError(
        file,
        "is not a DICOM file (no 'DICM' at byte 128): a series holds DICOM slices only",
      );
    }
  }
  return seriesVolume(source, files);
}

function seriesVolume(source: string, files: readonly DicomFile[]): Volume {
  if (files.length === 0) throw new VolumeError(source, 'holds no DICOM files');
  const slices = files.map(({ file, bytes }) => parseSlice(bytes, file));
  const series = new Map<string, DicomSlice[]>();
  for (const slice of slices) series.set(slice.series, [...(series.get(slice.series) ?? []), slice]);
  if (series.size > 1) {
    const list = [...series.values()]
      .map((s) => `"${s[0]!.description}" (${s.length} files: ${basename(s[0]!.file)}…)`)
      .join(', ');
    throw new VolumeError(source, `holds ${series.size} series (${list}); give one series per sequence`);
  }
  if (slices.length < 2) {
    throw new VolumeError(
      source,
      'holds one slice: a volume needs several; give single slices as TIFF or PNG',
    );
  }
  const first = slices[0]!;
  for (const s of slices) {
    const sameOrientation = s.orientation.every((v, k) => Math.abs(v - first.orientation[k]!) < 1e-4);
    if (s.rows !== first.rows || s.columns !== first.columns || !sameOrientation) {
      throw new VolumeError(
        s.file,
        `is ${s.columns}×${s.rows} with orientation ${s.orientation.join('\\')}, unlike ${basename(first.file)} ` +
          `(${first.columns}×${first.rows}, ${first.orientation.join('\\')}): not one volume`,
      );
    }
  }
  const along = first.orientation.slice(0, 3); // direction of increasing column index
  const down = first.orientation.slice(3, 6); // direction of increasing row index
  const normal = cross(along, down);
  slices.sort((a, b) => dot(a.position, normal) - dot(b.position, normal));
  const heights = slices.map((s) => dot(s.position, normal));
  const gaps = heights.slice(1).map((h, k) => h - heights[k]!);
  const gap = (heights[heights.length - 1]! - heights[0]!) / (slices.length - 1);
  gaps.forEach((g, k) => {
    if (!(gap > 0) || Math.abs(g - gap) > GAP_TOLERANCE * gap) {
      throw new VolumeError(
        slices[k + 1]!.file,
        `lies ${g.toFixed(3)} mm from the slice before it (${basename(slices[k]!.file)}) where the series steps ` +
          `${gap.toFixed(3)} mm: slices missing or repeated`,
      );
    }
  });
  const [nx, ny, nz] = [first.columns, first.rows, slices.length];
  if (nx * ny * nz > MAX_VOLUME_VOXELS) {
    throw new VolumeError(source, `has ${nx}×${ny}×${nz} voxels, more than one volume may have`);
  }
  const [rowSpacing, columnSpacing] = first.spacing;
  const step = slices[slices.length - 1]!.position.map((p, k) => (p - first.position[k]!) / (nz - 1));
  const origin = slices[0]!.position;
  // LPS (DICOM) to RAS (NIfTI): x and y change sign.
  const sign = [-1, -1, 1];
  const row = (r: number) =>
    [
      sign[r]! * along[r]! * columnSpacing,
      sign[r]! * down[r]! * rowSpacing,
      sign[r]! * step[r]!,
      sign[r]! * origin[r]!,
    ] as const;
  const affine: Affine = [row(0), row(1), row(2), [0, 0, 0, 1]];
  const data = new Float32Array(nx * ny * nz);
  slices.forEach((s, k) => {
    data.set(s.values, k * nx * ny);
  });
  return {
    source,
    dims: [nx, ny, nz],
    channels: 1,
    data,
    eightBit: slices.every((s) => s.eightBit),
    affine,
    spacing: [columnSpacing, rowSpacing, Math.hypot(...step)],
    space: spaceOfAffine(affine),
  };
}
