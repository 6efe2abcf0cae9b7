// Running a piece of TypeScript in a child process of its own: for what must not happen in the test runner's
// process (an abort, a heap limit, peak memory measured alone).
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../data/fixtures.ts';

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A module's URL from the repository root, for `import` in child code. */
export function moduleUrl(path: string): string {
  return pathToFileURL(`${repoRoot}/${path}`).href;
}

/**
 * Runs ES module `code` (TypeScript imports allowed) with node; `heapMb` caps the JS heap, so that code which
 * builds giant JS arrays dies quickly instead of growing for gigabytes.
 */
export function runModule(code: string, options: { heapMb?: number; timeoutMs?: number } = {}): ChildResult {
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
    timeout: options.timeoutMs ?? 120_000,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}
