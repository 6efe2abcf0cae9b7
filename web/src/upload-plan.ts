// Which of the files a user opened or dropped are sent: image slices and zips of them, or one patient as NIfTI
// (one 4-D volume of the three sequences, or the sequences apart, each named by its sequence) or as DICOM series
// (the files of a series folder, one folder per sequence, named by it; one folder alone is FLAIR). Ground-truth
// `_mask` files (the server refuses them), OS clutter and anything else are left out here, and counted so the
// page can say what it skipped.
import { SEQUENCE_NAMES, SEQUENCES, type Sequence } from '../../src/volume/patient-volume.ts';

export interface NamedFile {
  name: string;
  /** The path under what was opened or dropped (`P01/flair/IM0001`): a DICOM file's folder is its series. */
  path?: string;
  /** Whether the file starts as DICOM (the page reads its first bytes: DICOM files rarely have an extension). */
  dicom?: boolean;
}

export type UploadPlan<F extends NamedFile> =
  | {
      kind: 'send';
      /** Form field `files`: slices and zips, or one 4-D NIfTI volume. */
      files: F[];
      /** NIfTI volumes of one sequence each, sent in the form field of that name. */
      sequences: Partial<Record<Sequence, F>>;
      /** The files of a DICOM series per sequence, sent in the form field of that name. */
      series: Partial<Record<Sequence, F[]>>;
      images: number;
      zips: number;
      /** NIfTI files among `files` and `sequences`. */
      volumes: number;
      skippedMasks: number;
      skippedOther: string[];
    }
  | { kind: 'error'; message: string };

const IMAGE_EXTENSION = /\.(tiff?|png|jpe?g)$/i;
const ZIP_EXTENSION = /\.zip$/i;
const NIFTI_EXTENSION = /\.nii(\.gz)?$/i;
/** `sub-01_flair.nii.gz`, `post.nii`: a volume of one sequence, named as the CLI's --pre, --flair, --post. */
const SEQUENCE_NAME = /(?:^|[_.\- ])(pre|flair|post)\.nii(?:\.gz)?$/i;
/** `TCGA_CS_4941_19960909_12_mask.tif`: the dataset's ground truth, not an input. */
const MASK_NAME = /_mask\.[a-z]+$/i;
/** Files an OS drops into folders (`.DS_Store`, `._x.tif`, `Thumbs.db`): never meant as input, never counted. */
const CLUTTER_NAME = /^(\.|Thumbs\.db$|desktop\.ini$)/i;
/** A DICOM export's index of the media (DICOM itself, but no slice): left out like clutter. */
const DICOMDIR_NAME = /^DICOMDIR$/i;
/** A series folder named by its sequence: `flair`, `P01_FLAIR`, `sub-01-post`. */
const SEQUENCE_FOLDER = /(?:^|[_.\- ])(pre|flair|post)$/i;
/** Extensions of files that are never DICOM, so the page need not read them to know. */
const KNOWN_EXTENSION = /\.(tiff?|png|jpe?g|zip|nii|gz|txt|csv|json|md|pdf|html?)$/i;

export function isNiftiFileName(name: string): boolean {
  return NIFTI_EXTENSION.test(name);
}

export function isMaskFileName(name: string): boolean {
  return MASK_NAME.test(name);
}

/** Whether the page should read the file's first bytes to tell whether it is DICOM. */
export function mayBeDicom(name: string): boolean {
  return !KNOWN_EXTENSION.test(name) && !CLUTTER_NAME.test(name) && !DICOMDIR_NAME.test(name);
}

/** The folder part of a file's path ('' for a bare name). */
function folderOf(file: NamedFile): string {
  const path = file.path ?? file.name;
  return path.slice(0, Math.max(0, path.lastIndexOf('/')));
}

/**
 * One patient's DICOM files, a series per folder: one folder alone is FLAIR (unless its name gives another
 * sequence); several are each named by their sequence (`…/pre`, `…/flair`, `…/post`), FLAIR among them.
 */
function planSeries<F extends NamedFile>(
  dicoms: readonly F[],
  others: number,
): Partial<Record<Sequence, F[]>> | string {
  if (others > 0)
    return 'A DICOM series is a whole patient: open its folder(s) alone, without slices, zips or NIfTI.';
  const folders = new Map<string, F[]>();
  for (const file of dicoms) folders.set(folderOf(file), [...(folders.get(folderOf(file)) ?? []), file]);
  const series: Partial<Record<Sequence, F[]>> = {};
  for (const [folder, files] of folders) {
    const name = folder.split('/').pop() ?? '';
    const sequence = SEQUENCE_FOLDER.exec(name)?.[1]?.toLowerCase() as Sequence | undefined;
    if (sequence === undefined) {
      if (folders.size === 1) return { flair: files };
      return (
        `${folder || 'The loose files'}: name each series folder by its sequence (…/pre, …/flair, …/post), ` +
        'or open one series alone (taken as FLAIR).'
      );
    }
    if (series[sequence]) return `${folder}: a second ${SEQUENCE_NAMES[sequence]} series.`;
    series[sequence] = files;
  }
  if (!series.flair)
    return `No FLAIR series among ${[...folders.keys()].join(', ')}: the models need FLAIR (…/flair).`;
  return series;
}

/** The sequence a NIfTI file's name gives it, if any. */
export function sequenceOfName(name: string): Sequence | undefined {
  return SEQUENCE_NAME.exec(name)?.[1]?.toLowerCase() as Sequence | undefined;
}

/**
 * One patient's NIfTI files: a volume whose name gives no sequence is the 4-D volume of all three (sent alone);
 * otherwise every file names its sequence, FLAIR among them, as the server's fields want them.
 */
function planVolumes<F extends NamedFile>(
  volumes: readonly F[],
  others: number,
): { files: F[]; sequences: Partial<Record<Sequence, F>> } | string {
  const names = volumes.map((v) => v.name).join(', ');
  if (others > 0) return `A NIfTI volume is a whole patient: open ${names} alone, without slices or zips.`;
  const sequences: Partial<Record<Sequence, F>> = {};
  for (const volume of volumes) {
    const sequence = sequenceOfName(volume.name);
    if (sequence === undefined) {
      if (volumes.length === 1) return { files: [volume], sequences };
      return (
        `${volume.name}: name each volume by its sequence (…_pre, …_flair, …_post.nii.gz), ` +
        'or open one 4-D volume of all three alone.'
      );
    }
    if (sequences[sequence])
      return `${volume.name}: a second ${SEQUENCE_NAMES[sequence]} volume (${sequences[sequence].name}).`;
    sequences[sequence] = volume;
  }
  if (!sequences.flair) return `No FLAIR volume among ${names}: the models need FLAIR (…_flair.nii.gz).`;
  return { files: [], sequences };
}

export function planUpload<F extends NamedFile>(files: readonly F[]): UploadPlan<F> {
  const send: F[] = [];
  const volumes: F[] = [];
  const dicoms: F[] = [];
  const skippedOther: string[] = [];
  let images = 0;
  let zips = 0;
  let skippedMasks = 0;
  for (const file of files) {
    if (CLUTTER_NAME.test(file.name) || DICOMDIR_NAME.test(file.name)) continue;
    if (file.dicom) dicoms.push(file);
    else if (isNiftiFileName(file.name)) volumes.push(file);
    else if (ZIP_EXTENSION.test(file.name)) {
      send.push(file);
      zips++;
    } else if (isMaskFileName(file.name)) skippedMasks++;
    else if (IMAGE_EXTENSION.test(file.name)) {
      send.push(file);
      images++;
    } else skippedOther.push(file.name);
  }
  if (dicoms.length > 0) {
    const series = planSeries(dicoms, send.length + volumes.length);
    if (typeof series === 'string') return { kind: 'error', message: series };
    const counts = { images: 0, zips: 0, volumes: 0 };
    return { kind: 'send', files: [], sequences: {}, series, ...counts, skippedMasks, skippedOther };
  }
  if (volumes.length > 0) {
    const planned = planVolumes(volumes, send.length);
    if (typeof planned === 'string') return { kind: 'error', message: planned };
    const counts = { images: 0, zips: 0, volumes: volumes.length };
    return { kind: 'send', ...planned, series: {}, ...counts, skippedMasks, skippedOther };
  }
  if (send.length === 0) {
    const why = skippedMasks > 0 ? `; only ${skippedMasks} _mask file(s), which are ground truth` : '';
    return {
      kind: 'error',
      message:
        'No image slices (.tif, .png, .jpg), .zip, NIfTI volume (.nii, .nii.gz) or DICOM series among the ' +
        `files${why}.`,
    };
  }
  const counts = { images, zips, volumes: 0 };
  return { kind: 'send', files: send, sequences: {}, series: {}, ...counts, skippedMasks, skippedOther };
}

/** "12 slices and 1 zip chosen; skipped 12 _mask files, 1 other file." */
export function describePlan(plan: UploadPlan<NamedFile>): string {
  if (plan.kind === 'error') return plan.message;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const sequences = SEQUENCES.filter((s) => plan.sequences[s]).map((s) => SEQUENCE_NAMES[s]);
  const series = SEQUENCES.flatMap((s) => {
    const files = plan.series[s];
    return files ? [`${SEQUENCE_NAMES[s]} (${plural(files.length, 'file')})`] : [];
  });
  const chosen = [
    plan.images > 0 ? plural(plan.images, 'slice') : '',
    plan.zips > 0 ? plural(plan.zips, 'zip') : '',
    sequences.length > 0 ? `NIfTI ${sequences.join(', ')}` : '',
    series.length > 0 ? `DICOM ${series.join(', ')}` : '',
    plan.files.length === 1 && plan.volumes === 1 ? '1 NIfTI volume' : '',
  ]
    .filter(Boolean)
    .join(' and ');
  const skipped = [
    plan.skippedMasks > 0 ? `${plural(plan.skippedMasks, '_mask file')}` : '',
    plan.skippedOther.length > 0 ? plural(plan.skippedOther.length, 'other file') : '',
  ].filter(Boolean);
  return `${chosen} chosen${skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : ''}.`;
}
