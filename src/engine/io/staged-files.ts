// Output that appears whole or not at all: each file is written and flushed into a hidden folder inside the
// output folder (so that renames stay on one file system), and only commit() renames them into place, in the
// order written. A run that fails discards its files and leaves the folder as it found it; one that is killed
// leaves only the hidden .tumorscope-partial-* folder. Files already in the output folder are only ever
// replaced by a file of the same name, never deleted.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FileWriteError, writeFileSynced } from './atomic.ts';

export class StagedFiles {
  #staging: string | undefined;
  /** Whether this run made the output folder (it is removed again if nothing lands in it). */
  #madeFolder = false;
  readonly #written: string[] = [];

  constructor(readonly folder: string) {}

  /** Writes `relative` (a path inside the folder) to the staging folder; FileWriteError names the final path. */
  write(relative: string, bytes: Uint8Array): void {
    const target = join(this.folder, relative);
    try {
      const staged = join(this.#stagingFolder(), relative);
      mkdirSync(dirname(staged), { recursive: true });
      writeFileSynced(staged, bytes);
    } catch (err) {
      throw new FileWriteError(target, err);
    }
    this.#written.push(relative);
  }

  /** Moves every staged file into place, in the order written. */
  commit(): void {
    for (const relative of this.#written) {
      const target = join(this.folder, relative);
      try {
        mkdirSync(dirname(target), { recursive: true });
        renameSync(join(this.#staging!, relative), target);
      } catch (err) {
        this.discard();
        throw new FileWriteError(target, err);
      }
    }
    this.#written.length = 0;
    this.discard();
  }

  /** Removes what was staged (and the output folder, when this run made it and it stayed empty). */
  discard(): void {
    if (this.#staging) rmSync(this.#staging, { recursive: true, force: true });
    this.#staging = undefined;
    if (this.#madeFolder && existsSync(this.folder) && readdirSync(this.folder).length === 0) {
      rmdirSync(this.folder);
    }
  }

  #stagingFolder(): string {
    if (!this.#staging) {
      this.#madeFolder = !existsSync(this.folder);
      mkdirSync(this.folder, { recursive: true });
      this.#staging = mkdtempSync(join(this.folder, '.tumorscope-partial-'));
    }
    return this.#staging;
  }
}
