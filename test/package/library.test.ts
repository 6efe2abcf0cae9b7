// tumorscope as another project sees it: `npm pack` (which builds dist/ first), the tarball unpacked into a
// throwaway project's node_modules, and there, in plain Node without tsx: the README's library example on the
// example slices the package carries, `evaluate` on a small folder with masks, and TypeScript checking a use of
// the API against the shipped declarations. Offline: the package's dependencies are linked from this checkout's
// node_modules (as npm would install them, one folder each), so nothing is fetched; a dependency missing from
// package.json would be missing there too.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, writeKaggleFolder } from '../data/fixtures.ts';

/** Long enough for tsc to compile src/ and the shipped models to run on a loaded two-core machine. */
const MINUTES = 60_000;

interface PackedFile {
  path: string;
}

function run(command: string, args: string[], cwd: string, timeout: number): string {
  return execFileSync(command, args, {
    cwd,
    timeout,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' },
  });
}

/** The first ```js block after the README's "As a library" heading. */
function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## As a library'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(match, 'README has a js example under "As a library"');
  return match[1]!;
}

describe('the packed library in another project', () => {
  let tmp: string;
  let app: string;
  let files: string[];

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'tumorscope-package-'));
    const printed = run('npm', ['pack', '--json', '--pack-destination', tmp], repoRoot, 10 * MINUTES);
    // The JSON array follows whatever prepack's build printed.
    const packed = JSON.parse(printed.slice(printed.search(/^\[/m))) as {
      filename: string;
      files: PackedFile[];
    }[];
    const tarball = join(tmp, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path);

    app = join(tmp, 'app');
    const modules = join(app, 'node_modules');
    mkdirSync(join(modules, 'tumorscope'), { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', join(modules, 'tumorscope'), '--strip-components=1']);
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const name of Object.keys(manifest.dependencies)) {
      mkdirSync(dirname(join(modules, name)), { recursive: true });
      symlinkSync(join(repoRoot, 'node_modules', name), join(modules, name), 'dir');
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('packs the compiled API with its types, the models, the examples and the addon; no tests or CV folds', () => {
    for (const file of [
      'dist/index.js',
      'dist/index.d.ts',
      'models/classifier.safetensors',
      'models/segmenter.json',
      'examples/TCGA_DU_8167_19970402/TCGA_DU_8167_19970402_10.tif',
      'native/build/Release/tumorscope_torch.node',
      'bin/tumorscope.js',
    ]) {
      assert.ok(files.includes(file), `${file} is packed`);
    }
    for (const prefix of ['test/', 'models/cv/', 'runs/', 'node_modules/', 'web/']) {
      assert.ok(!files.some((f) => f.startsWith(prefix)), `nothing under ${prefix}`);
    }
  });

  it("runs the README's example in plain Node, on the example slices the package carries", () => {
    const example = readmeExample();
    assert.match(example, /node_modules\/tumorscope\/examples\//);
    writeFileSync(join(app, 'example.mjs'), example);
    const printed = run(process.execPath, ['example.mjs'], app, 10 * MINUTES);
    const summary = JSON.parse(readFileSync(join(app, 'out', 'library', 'summary.json'), 'utf8')) as {
      slices: { name: string; tumour: boolean; mask: string | null }[];
    };
    assert.equal(summary.slices.length, 5);
    for (const s of summary.slices) {
      assert.match(printed, new RegExp(`${s.name} ${s.tumour ? 'tumour' : 'no tumour'}`));
      if (s.mask) assert.ok(existsSync(join(app, 'out', 'library', s.mask)), s.mask);
    }
    assert.ok(
      summary.slices.some((s) => s.tumour),
      'the example patient has tumour on some slices',
    );
  });

  it('evaluates through the package, warning about a patient the shipped models trained on', () => {
    // A patient of the shipped models' training split, without data.csv (requireMetadata: false).
    const data = writeKaggleFolder(
      join(tmp, 'data'),
      [{ id: 'TCGA_CS_4941_19960909', slices: 3, tumour: [2], size: 32 }],
      false,
    );
    writeFileSync(
      join(app, 'evaluate.mjs'),
      `import { evaluate } from 'tumorscope';
const result = await evaluate({ data: ${JSON.stringify(data)}, out: 'out/eval', requireMetadata: false });
console.log(JSON.stringify({ slices: result.metrics.data.slices, warnings: result.warnings }));
`,
    );
    const { slices, warnings } = JSON.parse(
      run(process.execPath, ['evaluate.mjs'], app, 10 * MINUTES)
        .trim()
        .split('\n')
        .pop()!,
    ) as { slices: number; warnings: string[] };
    assert.equal(slices, 3);
    assert.ok(existsSync(join(app, 'out', 'eval', 'report.html')));
    assert.equal(warnings.length, 2, 'both shipped models trained on this patient');
    for (const w of warnings) assert.match(w, /TCGA_CS_4941_19960909/);
  });

  it('type-checks a use of the API against the shipped declarations, and refuses a wrong one', () => {
    writeFileSync(
      join(app, 'use.ts'),
      `import { evaluate, loadModels, type MetricsJson, predict, type PredictSummary } from 'tumorscope';

const models = loadModels();
const { summary }: { summary: PredictSummary } = await predict('a.tif', { models, out: 'out' });
const tumour: boolean = summary.slices[0]!.tumour;
const metrics: MetricsJson = (await evaluate({ data: 'kaggle_3m', out: 'eval' })).metrics;
// @ts-expect-error out is required: the types are real, not any
await predict('a.tif', { models });
export { metrics, tumour };
`,
    );
    const typeRoots = join(repoRoot, 'node_modules', '@types');
    run(
      process.execPath,
      [
        join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--skipLibCheck',
        '--typeRoots',
        typeRoots,
        '--types',
        'node',
        'use.ts',
      ],
      app,
      5 * MINUTES,
    );
  });
});
