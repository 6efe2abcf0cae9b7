// Writes that never leave a half-written file behind: write a temporary file beside the target, flush it, rename.
// A failed write (a full disk, say) is a FileWriteError naming the file the caller asked for.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** An output file that could not be written; `code` is the system's (ENOSPC, EACCES, ...). */
export class FileWriteError extends Error {
  override name = 'FileWriteError';
  readonly code: string | undefined;
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`${file}: cannot write it (${(cause as Error).message ?? cause})`, { cause });
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

/** Writes and flushes `path` (no rename): for a file that is not yet where anyone looks. */
export function writeFileSynced(path: string, chunks: Uint8Array | readonly Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of chunks instanceof Uint8Array ? [chunks] : chunks) {
      let offset = 0;
      while (offset < chunk.byteLength) offset += writeSync(fd, chunk, offset);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeFileAtomic(path: string, chunks: Uint8Array | readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSynced(tmp, chunks);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new FileWriteError(path, err);
  }
}

/** A value as the JSON files of a run hold it: indented by two, with a final newline. */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, jsonBytes(value));
}
