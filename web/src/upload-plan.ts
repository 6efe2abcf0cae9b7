// Which of the files a user opened or dropped are sent: image slices and zips of them. Ground-truth `_mask`
// files (the server refuses them), OS clutter and anything else are left out here, and counted so the page
// can say what it skipped.

export interface NamedFile {
  name: string;
}

export type UploadPlan<F extends NamedFile> =
  | { kind: 'send'; files: F[]; images: number; zips: number; skippedMasks: number; skippedOther: string[] }
  | { kind: 'error'; message: string };

const IMAGE_EXTENSION = /\.(tiff?|png|jpe?g)$/i;
const ZIP_EXTENSION = /\.zip$/i;
/** `TCGA_CS_4941_19960909_12_mask.tif`: the dataset's ground truth, not an input. */
const MASK_NAME = /_mask\.[a-z]+$/i;
/** Files an OS drops into folders (`.DS_Store`, `._x.tif`, `Thumbs.db`): never meant as input, never counted. */
const CLUTTER_NAME = /^(\.|Thumbs\.db$|desktop\.ini$)/i;

export function isMaskFileName(name: string): boolean {
  return MASK_NAME.test(name);
}

export function planUpload<F extends NamedFile>(files: readonly F[]): UploadPlan<F> {
  const send: F[] = [];
  const skippedOther: string[] = [];
  let images = 0;
  let zips = 0;
  let skippedMasks = 0;
  for (const file of files) {
    if (CLUTTER_NAME.test(file.name)) continue;
    if (ZIP_EXTENSION.test(file.name)) {
      send.push(file);
      zips++;
    } else if (isMaskFileName(file.name)) skippedMasks++;
    else if (IMAGE_EXTENSION.test(file.name)) {
      send.push(file);
      images++;
    } else skippedOther.push(file.name);
  }
  if (send.length === 0) {
    const why = skippedMasks > 0 ? `; only ${skippedMasks} _mask file(s), which are ground truth` : '';
    return { kind: 'error', message: `No image slices (.tif, .png, .jpg) or .zip among the files${why}.` };
  }
  return { kind: 'send', files: send, images, zips, skippedMasks, skippedOther };
}

/** "12 slices and 1 zip chosen; skipped 12 _mask files, 1 other file." */
export function describePlan(plan: UploadPlan<NamedFile>): string {
  if (plan.kind === 'error') return plan.message;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const chosen = [
    plan.images > 0 ? plural(plan.images, 'slice') : '',
    plan.zips > 0 ? plural(plan.zips, 'zip') : '',
  ]
    .filter(Boolean)
    .join(' and ');
  const skipped = [
    plan.skippedMasks > 0 ? `${plural(plan.skippedMasks, '_mask file')}` : '',
    plan.skippedOther.length > 0 ? plural(plan.skippedOther.length, 'other file') : '',
  ].filter(Boolean);
  return `${chosen} chosen${skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : ''}.`;
}
