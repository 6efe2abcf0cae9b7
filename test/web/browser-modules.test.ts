// The viewer runs the server's own code (the TIFF decoder, the two-stage core, naming, post-processing), so that
// module graph must hold nothing a browser lacks: no Node built-in, no native package. And the decoder the viewer
// now shares reads what the server reads, compressed TIFFs included (the viewer's own used to refuse them).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeTiff } from '../../src/data/tiff.ts';
import { encodeTiff, pattern, repoRoot, writeLzwTiff } from '../data/fixtures.ts';

/** Every module the page can load, from its entry, following relative imports; with the packages they import. */
function moduleGraph(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    // Value imports, dynamic imports and re-exports; `import type` and `export type` vanish from the bundle.
    const specifiers = [
      ...source.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm),
      ...source.matchAll(/^\s*import\s+'([^']+)'/gm),
      ...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
    ].map((m) => m[1]!);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else packages.set(specifier, file);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('the viewer’s modules', () => {
  const { files, packages } = moduleGraph(join(repoRoot, 'web', 'src', 'main.ts'));

  it('reach the shared TIFF decoder and the two-stage core', () => {
    const shared = [...files].map((f) => f.slice(repoRoot.length + 1));
    for (const module of [
      'src/data/tiff.ts',
      'src/inference/predict-slices.ts',
      'src/inference/two-stage.ts',
    ])
      assert.ok(shared.includes(module), `${module} is not part of the page`);
  });

  it('import no Node built-in and no package that needs Node', () => {
    const browserSafe = new Set(['fflate', 'utif2', 'zod', 'onnxruntime-web/wasm', '@niivue/niivue']);
    for (const [name, file] of packages) {
      assert.ok(browserSafe.has(name), `${file} imports ${name}, which the page cannot load`);
    }
  });
});

describe('the viewer’s TIFF decoding (the server’s decoder)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tumorscope-tiff-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const [W, H] = [13, 7];

  it('reads deflate and LZW TIFFs to the same pixels as an uncompressed one', async () => {
    const samples = pattern(W * H * 3, 4);
    const plain = decodeTiff(encodeTiff({ width: W, height: H, channels: 3, samples }), 'plain.tif');
    const deflate = encodeTiff({ width: W, height: H, channels: 3, samples, compression: 'deflate' });
    assert.deepEqual(decodeTiff(deflate, 'deflate.tif').data, plain.data);
    const lzw = readFileSync(await writeLzwTiff(join(dir, 'lzw.tif'), W, H, 3, samples));
    // As the page hands it over: a Uint8Array over a larger buffer, not at its start.
    const inside = new Uint8Array(lzw.length + 16);
    inside.set(lzw, 16);
    assert.deepEqual(decodeTiff(inside.subarray(16), 'lzw.tif').data, plain.data);
  });
});
