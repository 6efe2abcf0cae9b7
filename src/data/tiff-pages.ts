// How many full-resolution images a TIFF holds, read from its directory chain alone (no pixels), for the TIFF
// decoder (src/data/tiff.ts, the server's and the viewer's): a slice file is one image, and a file of
// several is most likely a stack of slices, of which the first alone would be read without a word.

/** Directories walked at most: a corrupt chain may loop or run on. */
const MAX_DIRECTORIES = 4096;

/**
 * Full-resolution images in the TIFF `bytes`: directories other than thumbnails and masks (NewSubfileType bit 0
 * or 2, or the old SubfileType 2). A chain that runs past the end of the file or loops ends the count there; the
 * decoder reports a broken first directory itself.
 */
export function tiffImageCount(bytes: Uint8Array): number {
  if (bytes.length < 8) return 0;
  const le = bytes[0] === 0x49;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const seen = new Set<number>();
  let count = 0;
  for (let at = view.getUint32(4, le); at !== 0 && !seen.has(at) && seen.size < MAX_DIRECTORIES; ) {
    seen.add(at);
    if (at + 2 > bytes.length) break;
    const entries = view.getUint16(at, le);
    const end = at + 2 + entries * 12;
    if (end + 4 > bytes.length) break;
    let fullResolution = true;
    for (let entry = at + 2; entry < end; entry += 12) {
      const id = view.getUint16(entry, le);
      if (id !== 254 && id !== 255) continue;
      const type = view.getUint16(entry + 2, le);
      const value = type === 3 ? view.getUint16(entry + 8, le) : view.getUint32(entry + 8, le);
      if (id === 254 ? (value & 0b101) !== 0 : value === 2) fullResolution = false;
    }
    if (fullResolution) count += 1;
    at = view.getUint32(end, le);
  }
  return count;
}

/**
 * Why a TIFF of several images is refused rather than read from its first: here a file holds one slice, so
 * several images are a stack of slices (or a slice and its mask), and reading one would drop the rest unseen.
 */
export function multiPageProblem(images: number): string {
  return `holds ${images} images; a slice file must hold one (save each slice of a stack as its own file)`;
}
