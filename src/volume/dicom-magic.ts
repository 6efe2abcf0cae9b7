// Telling a DICOM file by its first bytes, apart from the reader (dicom.ts, which needs Node): the viewer sorts
// the files a user drops with it, and the server its uploads.

/** The bytes a file needs for isDicomBytes to tell: the 128-byte preamble, 'DICM' and one more. */
export const DICOM_HEAD_BYTES = 133;

/** Does the file start as a DICOM Part 10 file ('DICM' after the 128-byte preamble)? */
export function isDicomBytes(bytes: Uint8Array): boolean {
  return (
    bytes.length >= DICOM_HEAD_BYTES &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}
