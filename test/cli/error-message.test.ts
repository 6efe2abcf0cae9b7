// The command line words the data layer's remedies as the flags of the command that ran: never the API's option
// names (skipBadFiles, requireMetadata: false), and no flag the command does not have.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { registerDataInspect } from '../../src/cli/commands/data-inspect.ts';
import { registerEvaluate } from '../../src/cli/commands/evaluate.ts';
import { registerExport } from '../../src/cli/commands/export.ts';
import { registerPredict } from '../../src/cli/commands/predict.ts';
import { registerTrain } from '../../src/cli/commands/train.ts';
import { errorMessage } from '../../src/cli/error-message.ts';
import { MetadataError } from '../../src/data/errors.ts';
import { repoRoot, tempDir, writeKaggleFolder } from '../data/fixtures.ts';

const missingCsv = new MetadataError('missing-metadata', '/d/data.csv', 'data.csv not found', [
  'skipBadFiles',
  'requireMetadata: false',
]);

function command(...path: string[]): Command {
  const program = new Command();
  registerTrain(program);
  registerDataInspect(program);
  registerEvaluate(program);
  registerPredict(program);
  registerExport(program);
  let found: Command | undefined = program;
  for (const name of path) found = found?.commands.find((c) => c.name() === name);
  return found ?? assert.fail(`no command ${path.join(' ')}`);
}

/** What the command printed on stderr when it failed. */
function failure(args: string[]): string {
  try {
    execFileSync(process.execPath, [join(repoRoot, 'bin', 'tumorscope.js'), ...args], { stdio: 'pipe' });
  } catch (err) {
    const { status, stderr } = err as { status: number; stderr: Buffer };
    assert.equal(status, 1);
    return stderr.toString().trim();
  }
  return assert.fail(`${args.join(' ')} succeeded`);
}

describe('error messages on the command line', () => {
  it("name the running command's flags for the data layer's remedies, and only those it has", () => {
    assert.equal(
      errorMessage(missingCsv, command('data', 'inspect')),
      '/d/data.csv: data.csv not found; use --skip-bad-files or --no-metadata to go without it',
    );
    // evaluate has the option data inspect has for it.
    assert.equal(
      errorMessage(missingCsv, command('evaluate')),
      '/d/data.csv: data.csv not found; use --skip-bad-files or --no-metadata to go without it',
    );
    assert.equal(
      errorMessage(missingCsv, command('train', 'classifier')),
      '/d/data.csv: data.csv not found; use --skip-bad-files to go without it',
    );
    assert.equal(
      errorMessage(missingCsv, command('predict')),
      '/d/data.csv: data.csv not found; use --skip-bad-files to go without it',
    );
    // A command with neither flag gets no remedy at all.
    assert.equal(errorMessage(missingCsv, command('export')), '/d/data.csv: data.csv not found');
    assert.match(missingCsv.message, /pass skipBadFiles or requireMetadata: false to go without it$/);
  });

  it('reach the terminal so from data inspect and from train', (t) => {
    const root = writeKaggleFolder(tempDir(t), [{ id: 'TCGA_CS_0001_20000101', slices: 1 }], false);
    const csv = join(root, 'data.csv');
    assert.equal(
      failure(['data', 'inspect', root, '--size', '16']),
      `error: ${csv}: data.csv not found; use --skip-bad-files or --no-metadata to go without it`,
    );
    const out = join(tempDir(t), 'run');
    assert.equal(
      failure(['train', 'segmenter', '--data', root, '--out', out, '--size', '16']),
      `tumorscope: ${csv}: data.csv not found; use --skip-bad-files to go without it`,
    );
  });
});
