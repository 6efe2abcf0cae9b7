// Running a `tumorscope` subcommand in the test's own process, as bin/tumorscope.js would but without a child:
// what it printed, what it threw, and the exit code it set (reset afterwards, so the runner's own stays 0).
import { mock } from 'node:test';
import { Command } from 'commander';

export interface CommandRun {
  stdout: string[];
  stderr: string[];
  /** What the command threw (src/cli/main.ts would print its message and exit 1). */
  error: unknown;
  /** process.exitCode as the command left it. */
  exitCode: number | undefined;
}

export async function runCommand(register: (program: Command) => void, args: string[]): Promise<CommandRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const log = mock.method(console, 'log', (...parts: unknown[]) => stdout.push(parts.join(' ')));
  const error = mock.method(console, 'error', (...parts: unknown[]) => stderr.push(parts.join(' ')));
  const before = process.exitCode;
  let thrown: unknown;
  let exitCode: number | undefined;
  try {
    const program = new Command().exitOverride();
    register(program);
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    thrown = err;
  } finally {
    log.mock.restore();
    error.mock.restore();
    exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
    process.exitCode = before;
  }
  return { stdout, stderr, error: thrown, exitCode };
}
