// Running a piece of TypeScript, or the `tumorscope` command, in a child process of its own: for what must not
// happen in the test runner's process (an abort, a heap limit, peak memory measured alone).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../data/fixtures.ts';

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * How long a child (or a test that could loop) may run before it counts as hung. It only ends a hang: the work
 * takes seconds, but a machine busy with other jobs can make it minutes, and that must not fail a test.
 */
export const HANG_MS = 900_000;

/** A module's URL from the repository root, for `import` in child code. */
export function moduleUrl(path: string): string {
  return pathToFileURL(`${repoRoot}/${path}`).href;
}

/**
 * Runs ES module `code` (TypeScript imports allowed) with node; `heapMb` caps the JS heap, so that code which
 * builds giant JS arrays dies quickly instead of growing for gigabytes.
 */
export function runModule(code: string, options: { heapMb?: number } = {}): ChildResult {
  const args = [
    ...(options.heapMb ? [`--max-old-space-size=${options.heapMb}`] : []),
    '--import',
    'tsx',
    '--input-type=module',
    '--eval',
    code,
  ];
  const result = spawnSync(process.execPath, args, {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: HANG_MS,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

export interface CommandResult extends ChildResult {
  /** The process's peak resident memory in MB (getrusage's maxRSS), or null when it never reached its exit. */
  peakMb: number | null;
}

/**
 * Runs `tumorscope ARGS` as a user would (bin/tumorscope.js) and reads its peak resident memory, which the
 * process records itself on exit: so an abort shows as a missing figure, and nothing depends on timing.
 */
export function runTumorscope(args: string[]): CommandResult {
  const dir = mkdtempSync(join(tmpdir(), 'tumorscope-rss-'));
  const file = join(dir, 'max-rss-kb');
  const record = `import { writeFileSync } from 'node:fs';
    process.on('exit', () => writeFileSync(${JSON.stringify(file)}, String(process.resourceUsage().maxRSS)));`;
  try {
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(record)}`,
        join(repoRoot, 'bin', 'tumorscope.js'),
        ...args,
      ],
      { encoding: 'utf8', timeout: HANG_MS },
    );
    const peakMb = existsSync(file) ? Number(readFileSync(file, 'utf8')) / 1024 : null;
    return {
      status: result.status,
      signal: result.signal,
      stdout: result.stdout,
      stderr: result.stderr,
      peakMb,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
