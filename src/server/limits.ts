// What the server accepts and how much work it lets pile up. One place, so that the CLI flags, the tests and the
// bench all turn the same knobs.
import { HttpError } from './http-error.ts';

export interface ServerLimits {
  /** Largest request body, in bytes: larger ones get 413 (by Content-Length, or while the body streams in). */
  maxBodyBytes: number;
  /** Prediction jobs that may wait behind the running one; more get 503 with Retry-After. */
  queueLimit: number;
  /** Retry-After, in seconds, sent with a 503. */
  retryAfterSeconds: number;
  /** What the zips of one request may unpack to, in bytes: a zip bomb is refused before it is inflated. */
  maxUnpackedBytes: number;
  /** Slices in one request, uploaded or inside zips: more get 413, zip entries counted before inflating. */
  maxSlices: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  // A whole LGG patient is 20–88 TIFFs of 197 KB (≤ 18 MB); 64 MB leaves room for several, or a zip of them.
  maxBodyBytes: 64 * 1024 * 1024,
  // Each waiting job holds its upload in memory: 16 × 64 MB is the worst case the queue can hold.
  queueLimit: 16,
  retryAfterSeconds: 5,
  // LGG TIFFs barely compress, so a 64 MB zip unpacks to little more; four times leaves room for PNGs.
  maxUnpackedBytes: 256 * 1024 * 1024,
  // Eleven of the largest LGG patients (88 slices). Every slice costs a volume's worth of model input and a
  // result with its mask whatever its own size: 20,000 one-pixel TIFFs (a 4.9 MB zip) once took 6 GB.
  maxSlices: 1024,
});

/** What the worker lets one request hold. */
export type RequestLimits = Pick<ServerLimits, 'maxUnpackedBytes' | 'maxSlices'>;

/** The 413 for a request of more than `maxSlices` slices, naming the upload where the count went over. */
export function tooManySlices(upload: string, maxSlices: number): HttpError {
  return new HttpError(413, `${upload}: more than ${maxSlices} slices in one request; send them in parts`);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}
