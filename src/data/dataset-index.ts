// Finding the slices: the kaggle_3m layout (patient folders TCGA_<inst>_<id>_<date>/ holding <patient>_<n>.tif
// and <patient>_<n>_mask.tif, plus data.csv), one patient's folder, one slice file, or a list of files. Only
// names are read here; pixels are decoded by the slice cache. Slices are ordered by their number, numerically.
import { existsSync, readdirSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { type ClinicalRecord, clinicalFor, readClinicalCsv } from './clinical-csv.ts';
import {
  BadEntryError,
  type DataError,
  EmptyDatasetError,
  MaskGivenError,
  type Problem,
  ProblemLog,
  TooManySlicesError,
  UnpairedFileError,
} from './errors.ts';
import { MAX_SLICES_PER_PATIENT, naturalOrder, parseSliceName } from './slice-names.ts';

export const IMAGE_EXTENSIONS = ['.tif', '.tiff', '.png', '.jpg', '.jpeg'] as const;

export type DatasetLayout = 'kaggle_3m' | 'patient-folder' | 'file' | 'file-list';

export interface SliceRef {
  patientId: string;
  /** The <n> of <patient>_<n>.tif, or the position in natural name order when the name has no number. */
  sliceNumber: number;
  imagePath: string;
  maskPath?: string;
}

export interface PatientRef {
  id: string;
  /** The <inst> of TCGA_<inst>_<id>, or 'unknown'. */
  institution: string;
  slices: SliceRef[];
  /** The patient's data.csv row, when there is one. */
  clinical?: ClinicalRecord;
}

export interface DatasetIndex {
  /** The folder or file given (absolute). */
  source: string;
  layout: DatasetLayout;
  patients: PatientRef[];
  /** True when every slice has a mask. */
  hasMasks: boolean;
  /** data.csv columns, when it was read. */
  clinicalColumns?: string[];
  /** Files skipped with skipBadFiles. */
  problems: Problem[];
}

export interface ScanOptions {
  /** Warn and skip unpaired files and a missing data.csv instead of throwing. */
  skipBadFiles?: boolean;
  /** Whether a folder of patient folders must hold data.csv (default: when its patients are TCGA_*). */
  requireMetadata?: boolean;
  warn?: (message: string) => void;
  /** Only the slice images (prediction): mask files and data.csv are ignored, and a mask given alone is refused. */
  slicesOnly?: boolean;
}

export function isImageFile(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/** The <inst> code of a TCGA patient id. */
export function institutionOf(patientId: string): string {
  return /^TCGA_([A-Za-z0-9]{2})_/.exec(patientId)?.[1] ?? 'unknown';
}

/**
 * Pairs images with masks by name. `masksRequired`: every image needs a mask (kaggle_3m, or a folder that holds
 * some masks); otherwise a folder of images alone is fine. Unpaired files go through `log`.
 */
function pairSlices(files: string[], patientId: string, masksRequired: boolean, log: ProblemLog): SliceRef[] {
  const images = new Map<string, string>();
  const masks = new Map<string, string>();
  for (const file of files) {
    const p = parseSliceName(file);
    (p.isMask ? masks : images).set(`${dirname(file)}/${p.key}`, file);
  }
  const required = masksRequired || masks.size > 0;
  for (const [key, mask] of masks) {
    if (!images.has(key)) {
      log.report(
        new UnpairedFileError('mask-without-image', mask, `${key.split('/').pop()}${extname(mask)}`),
      );
    }
  }
  const slices: SliceRef[] = [];
  for (const [key, image] of images) {
    const mask = masks.get(key);
    if (required && !mask) {
      log.report(
        new UnpairedFileError('image-without-mask', image, `${key.split('/').pop()}_mask${extname(image)}`),
      );
      continue;
    }
    const n = parseSliceName(image).sliceNumber;
    slices.push({
      patientId,
      sliceNumber: n ?? Number.NaN,
      imagePath: image,
      ...(mask ? { maskPath: mask } : {}),
    });
  }
  slices.sort(
    (a, b) =>
      (Number.isNaN(a.sliceNumber) ? 0 : a.sliceNumber) - (Number.isNaN(b.sliceNumber) ? 0 : b.sliceNumber) ||
      naturalOrder(basename(a.imagePath), basename(b.imagePath)),
  );
  // Names without a number get their position, so that every slice has one.
  slices.forEach((s, i) => {
    if (Number.isNaN(s.sliceNumber)) s.sliceNumber = i + 1;
  });
  return slices;
}

function listDir(dir: string, log: ProblemLog, slicesOnly = false): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    // Follow symbolic links: datasets are often linked in rather than copied.
    const stats = entry.isSymbolicLink() ? followLink(full, log) : entry;
    if (stats?.isDirectory() && isImageFile(entry.name))
      log.report(new BadEntryError(full, 'is a folder, not an image file, though it is named like one'));
    else if (stats?.isDirectory()) dirs.push(full);
    else if (stats?.isFile() && isImageFile(entry.name) && !(slicesOnly && parseSliceName(entry.name).isMask))
      files.push(full);
  }
  return { files, dirs: dirs.sort(naturalOrder) };
}

/** What a symbolic link leads to; undefined for a missing target (ignored, as before) or a reported problem. */
function followLink(link: string, log: ProblemLog): Stats | undefined {
  try {
    return statSync(link, { throwIfNoEntry: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem =
      code === 'ELOOP'
        ? 'is a symbolic link that leads in a loop (ELOOP): point it at a real file or folder'
        : `is a symbolic link that cannot be followed (${code ?? (err as Error).message})`;
    log.report(new BadEntryError(link, problem, { cause: err }));
    return undefined;
  }
}

function makePatient(id: string, slices: SliceRef[]): PatientRef {
  return { id, institution: institutionOf(id), slices };
}

/** Scans a kaggle_3m folder, a patient folder, one slice file, or a list of slice files. */
export function scanDataset(input: string | readonly string[], options: ScanOptions = {}): DatasetIndex {
  const log = new ProblemLog(options.skipBadFiles ?? false, options.warn);
  if (typeof input !== 'string') return scanFileList(input, log, 'file-list', options.slicesOnly);
  const source = resolve(input);
  if (!existsSync(source)) throw new EmptyDatasetError(source, 'no such file or folder');
  const slicesOnly = options.slicesOnly ?? false;
  if (statSync(source).isFile()) return scanFileList([source], log, 'file', slicesOnly);
  let root = source;
  let { files, dirs } = listDir(root, log, slicesOnly);
  // The Kaggle download unzips to lgg-mri-segmentation/kaggle_3m/: accept the folder above it too.
  if (files.length === 0 && dirs.some((d) => basename(d) === 'kaggle_3m')) {
    root = join(root, 'kaggle_3m');
    ({ files, dirs } = listDir(root, log, slicesOnly));
  }
  if (files.length > 0) {
    const id = basename(root);
    const slices = pairSlices(files, id, false, log);
    const index = finish(source, 'patient-folder', [makePatient(id, slices)], log);
    return index;
  }
  const folders = dirs
    .map((dir) => ({ id: basename(dir), files: listDir(dir, log, slicesOnly).files }))
    .filter((f) => f.files.length);
  // Once any patient has masks, every slice needs one (a missing mask is a lost label, not an unlabelled set).
  const anyMask = folders.some((f) => f.files.some((file) => parseSliceName(file).isMask));
  const patients = folders.map((f) => makePatient(f.id, pairSlices(f.files, f.id, anyMask, log)));
  const index = finish(source, 'kaggle_3m', patients, log);
  // data.csv belongs to the LGG (TCGA) layout; other multi-patient folders need not have one.
  const tcga = patients.some((p) => p.id.startsWith('TCGA_'));
  if (slicesOnly) return index;
  attachClinical(
    index,
    join(root, 'data.csv'),
    { ...options, requireMetadata: options.requireMetadata ?? tcga },
    log,
  );
  return index;
}

function scanFileList(
  paths: readonly string[],
  log: ProblemLog,
  layout: DatasetLayout = 'file-list',
  slicesOnly = false,
): DatasetIndex {
  const files = paths.map((p) => resolve(p));
  const source = files.length === 1 ? files[0]! : process.cwd();
  for (const file of files) {
    if (!existsSync(file)) throw new EmptyDatasetError(file, 'no such file');
    if (slicesOnly && parseSliceName(file).isMask) {
      throw new MaskGivenError(file);
    }
  }
  // Slice files given without masks bring theirs along when they lie beside them (the dataset's naming).
  if (!slicesOnly && !files.some((f) => parseSliceName(f).isMask)) {
    for (const f of [...files]) {
      const mask = join(dirname(f), `${parseSliceName(f).key}_mask${extname(f)}`);
      if (existsSync(mask)) files.push(mask);
    }
  }
  const byPatient = new Map<string, string[]>();
  for (const file of files) {
    const id = parseSliceName(file).patientId;
    const patientFiles = byPatient.get(id);
    if (patientFiles) patientFiles.push(file);
    else byPatient.set(id, [file]);
  }
  // Within a patient, a mask for one slice means every slice needs one; patients are judged separately.
  const patients = [...byPatient].map(([id, group]) => makePatient(id, pairSlices(group, id, false, log)));
  return finish(source, layout, patients, log);
}

function finish(
  source: string,
  layout: DatasetLayout,
  patients: PatientRef[],
  log: ProblemLog,
): DatasetIndex {
  // Counted from names, before anything is decoded: a folder of thousands of files costs nothing to refuse.
  const kept = patients.filter((p) => {
    if (p.slices.length <= MAX_SLICES_PER_PATIENT) return p.slices.length > 0;
    const folder = dirname(p.slices[0]!.imagePath);
    log.report(new TooManySlicesError(folder, p.id, p.slices.length, MAX_SLICES_PER_PATIENT));
    return false;
  });
  if (kept.length === 0) {
    throw new EmptyDatasetError(
      source,
      log.count > 0
        ? `no usable slices (${log.count} bad files skipped)`
        : 'no slice images found (.tif, .tiff, .png, .jpg, .jpeg)',
    );
  }
  kept.sort((a, b) => naturalOrder(a.id, b.id));
  const hasMasks = kept.every((p) => p.slices.every((s) => s.maskPath !== undefined));
  return { source, layout, patients: kept, hasMasks, problems: log.problems };
}

function attachClinical(index: DatasetIndex, csvPath: string, options: ScanOptions, log: ProblemLog): void {
  if (!existsSync(csvPath) && options.requireMetadata === false) return;
  let table: Map<string, ClinicalRecord>;
  try {
    table = readClinicalCsv(csvPath);
  } catch (err) {
    log.report(err as DataError);
    return;
  }
  const columns = new Set<string>();
  for (const patient of index.patients) {
    const record = clinicalFor(table, patient.id);
    if (record) {
      patient.clinical = record;
      for (const c of Object.keys(record)) columns.add(c);
    }
  }
  index.clinicalColumns = [...columns];
}
