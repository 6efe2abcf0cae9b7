// How the command line words an error. The data layer's messages name its API options as remedies
// (skipBadFiles, requireMetadata: false); here they become the flags of the command that ran, or go unsaid
// when that command has none of them.
import type { Command } from 'commander';
import { DataError, type Remedy } from '../data/errors.ts';

const FLAGS: Record<Remedy, string> = {
  skipBadFiles: '--skip-bad-files',
  'requireMetadata: false': '--no-metadata',
};

export function errorMessage(err: unknown, command: Command | undefined): string {
  if (!(err instanceof Error)) return String(err);
  if (!(err instanceof DataError) || err.remedies.length === 0) return err.message;
  const has = new Set(command?.options.map((o) => o.long));
  const flags = err.remedies.map((r) => FLAGS[r]).filter((flag) => has.has(flag));
  return `${err.file}: ${err.problem}${flags.length ? `; use ${flags.join(' or ')} to go without it` : ''}`;
}
