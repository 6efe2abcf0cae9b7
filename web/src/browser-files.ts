// The slices inside a .zip, unpacked in the page for in-browser inference, with the server's rules
// (src/server/zip-entries.ts): folders, hidden files, __MACOSX/, files not named as images and ground-truth
// masks are skipped; an archive without a slice is an error. Pure (fflate), so it is unit-tested in Node.
import { unzipSync } from 'fflate';

const IMAGE_NAME = /\.(tiff?|png|jpe?g)$/i;
const MASK_STEM = /_mask\.[^.]+$/i;

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export function isSlicePath(path: string): boolean {
  const parts = path.split('/');
  const base = parts[parts.length - 1] ?? '';
  if (path.endsWith('/') || parts.some((p) => p.startsWith('.') || p === '__MACOSX')) return false;
  return IMAGE_NAME.test(base) && !MASK_STEM.test(base);
}

/** The slice images of a zip, named by their path inside it (its folder names a numberless file's patient). */
export function unzipSlices(archive: string, bytes: Uint8Array): NamedBytes[] {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (entry) => isSlicePath(entry.name) });
  } catch (err) {
    throw new Error(`${archive}: not a readable .zip (${(err as Error).message})`);
  }
  const slices = Object.entries(files).map(([name, content]) => ({ name, bytes: content }));
  if (slices.length === 0) {
    throw new Error(
      `${archive}: no slice images in the archive (.tif, .tiff, .png, .jpg, .jpeg; masks are skipped)`,
    );
  }
  return slices;
}
