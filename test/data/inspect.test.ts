// Seeing the data: the summary's counts and tumour-area statistics, the overlay grid's pixels, and the
// `tumorscope data inspect` command end to end on a folder the test makes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs, { existsSync, readdirSync, readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import sharp from 'sharp';
import { registerDataInspect } from '../../src/cli/commands/data-inspect.ts';
import { scanDataset } from '../../src/data/dataset-index.ts';
import { distribution, formatSummary, summariseDataset } from '../../src/data/dataset-summary.ts';
import {
  captionsSvg,
  chooseGridSlices,
  overlayGrid,
  tileCaption,
  writeRgbPng,
} from '../../src/data/overlay-grid.ts';
import { mulberry32 } from '../../src/data/random.ts';
import { loadSlices } from '../../src/data/slice-cache.ts';
import { repoRoot, tempDir, writeKaggleFolder } from './fixtures.ts';

const PATIENTS = [
  { id: 'TCGA_CS_0001_20000101', slices: 4, tumour: [2, 3] },
  { id: 'TCGA_CS_0002_20000101', slices: 2, tumour: [] },
  { id: 'TCGA_HT_0003_20000101', slices: 3, tumour: [1] },
];

test('summary: counts overall and per institution, tumour areas, slices per patient', async (t) => {
  const root = writeKaggleFolder(tempDir(t), PATIENTS);
  const index = scanDataset(root);
  const s = summariseDataset(index, await loadSlices(index, { width: 16 }));
  assert.deepEqual([s.patients, s.slices, s.tumourSlices], [3, 9, 3]);
  assert.deepEqual(s.institutions, {
    CS: { patients: 2, slices: 6, tumourSlices: 2 },
    HT: { patients: 1, slices: 3, tumourSlices: 1 },
  });
  // Boxes are (n) × 4 pixels on slice n: areas 8, 12 and 4.
  assert.deepEqual(s.tumourAreaPixels, {
    count: 3,
    min: 4,
    max: 12,
    mean: 8,
    median: 8,
    p10: 4.8,
    p90: 11.2,
  });
  assert.equal(s.tumourAreaFraction!.max, 12 / 256);
  assert.deepEqual(
    s.perPatient.map((p) => [p.slices, p.tumourSlices]),
    [
      [4, 2],
      [2, 0],
      [3, 1],
    ],
  );
  const text = formatSummary(s);
  assert.match(text, /patients: 3; slices: 9; 3 tumour slices \(33\.3%\)/);
  assert.match(text, /HT\s+1 patients,\s+3 slices, 1 tumour/);
  assert.equal(distribution([]), undefined);
});

test('grid: tiles in place, mask outlined in full colour and filled at partial opacity', async (t) => {
  const root = writeKaggleFolder(tempDir(t), PATIENTS);
  const cache = await loadSlices(scanDataset(root), { width: 16 });
  const picked = chooseGridSlices(cache, 4, mulberry32(1));
  assert.equal(picked.length, 4);
  assert.equal(picked.filter((i) => cache.tumourPixels[i]! > 0).length, 2, 'half the tiles show tumour');
  assert.deepEqual(picked, chooseGridSlices(cache, 4, mulberry32(1)));
  // Slice 3 of the first patient (cache index 2): box x 2..5, y 2..6.
  const grid = overlayGrid(cache, [0, 2], { columns: 2, gap: 2, colour: [255, 0, 0], alpha: 0.5 });
  assert.deepEqual([grid.width, grid.height], [34, 16]);
  const at = (x: number, y: number) => [...grid.data.subarray((y * 34 + x) * 3, (y * 34 + x) * 3 + 3)];
  const img = (slice: number, x: number, y: number) => {
    const o = (slice * 256 + y * 16 + x) * 3;
    return [...cache.images.subarray(o, o + 3)];
  };
  assert.deepEqual(at(3, 3), img(0, 3, 3), 'no tumour: pixels unchanged');
  assert.deepEqual(at(18 + 2, 2), [255, 0, 0], 'edge of the box: full colour');
  const inside = img(2, 3, 3);
  assert.deepEqual(at(18 + 3, 3), [
    Math.round(inside[0]! / 2 + 127.5),
    Math.round(inside[1]! / 2),
    Math.round(inside[2]! / 2),
  ]);
  assert.deepEqual(at(16, 0), [0, 0, 0], 'gap between tiles');
});

test('grid captions: each tile labelled with its patient and slice number, in a band along its top', async (t) => {
  const root = writeKaggleFolder(tempDir(t), PATIENTS);
  const cache = await loadSlices(scanDataset(root), { width: 64 });
  const grid = overlayGrid(cache, [0, 6], { columns: 2, gap: 2 });
  assert.deepEqual(
    grid.tiles.map((tile) => [tile.x, tile.y, tile.slice]),
    [
      [0, 0, 0],
      [66, 0, 6],
    ],
  );
  const captions = grid.tiles.map((tile) => ({ tile, text: tileCaption(cache, tile.slice) }));
  assert.deepEqual(
    captions.map((c) => c.text),
    ['TCGA_CS_0001_20000101 #1', 'TCGA_HT_0003_20000101 #1'],
  );
  assert.match(
    captionsSvg(grid, '', [{ tile: grid.tiles[0]!, text: 'a<b&"c"' }]),
    /a&lt;b&amp;&quot;c&quot;/,
  );
  // A black picture, so that only the captions light pixels up.
  const black = { ...grid, data: new Uint8Array(grid.data.length) };
  const path = join(tempDir(t), 'captioned.png');
  await writeRgbPng(path, black, captions);
  const { data, info } = await sharp(readFileSync(path))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [grid.width, grid.height]);
  const bright = (x0: number, x1: number, y0: number, y1: number) => {
    let n = 0;
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) if (data[(y * info.width + x) * info.channels]! > 128) n++;
    return n;
  };
  assert.ok(bright(0, 64, 0, 12) > 10, 'text in the first tile’s band');
  assert.ok(bright(66, 130, 0, 12) > 10, 'text in the second tile’s band');
  assert.equal(bright(0, grid.width, 20, grid.height), 0, 'nothing below the bands');
});

test('`tumorscope data inspect` prints the counts and writes the picture and JSON', (t) => {
  const dir = tempDir(t);
  const root = writeKaggleFolder(join(dir, 'kaggle_3m'), PATIENTS);
  const grid = join(dir, 'grid.png');
  const json = join(dir, 'summary.json');
  const out = execFileSync(
    process.execPath,
    [
      join(repoRoot, 'bin', 'tumorscope.js'),
      'data',
      'inspect',
      root,
      '--size',
      '16',
      '--grid',
      grid,
      '--grid-slices',
      '6',
      '--columns',
      '3',
      '--json',
      json,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  assert.match(out, /patients: 3; slices: 9; 3 tumour slices/);
  assert.match(out, /CS\s+2 patients/);
  assert.match(out, /tumour area/);
  assert.ok(existsSync(grid));
  assert.equal(JSON.parse(readFileSync(json, 'utf8')).slices, 9);
  return sharp(grid)
    .metadata()
    .then((m) => assert.deepEqual([m.width, m.height], [3 * 16 + 4, 2 * 16 + 2]));
});

test('`tumorscope data inspect` on an empty folder fails with a message naming it', (t) => {
  const dir = tempDir(t);
  assert.throws(
    () =>
      execFileSync(process.execPath, [join(repoRoot, 'bin', 'tumorscope.js'), 'data', 'inspect', dir], {
        stdio: 'pipe',
      }),
    (e: { status: number; stderr: Buffer }) =>
      e.status !== 0 && e.stderr.toString().includes(dir) && /no slice images/.test(e.stderr.toString()),
  );
});

test('`tumorscope data inspect` names the picture a full disk (ENOSPC) kept it from writing, leaving no part of it', async (t) => {
  const dir = tempDir(t);
  const root = writeKaggleFolder(join(dir, 'kaggle_3m'), PATIENTS);
  const grid = join(dir, 'out', 'grid.png');
  fs.mkdirSync(join(dir, 'out'));
  t.mock.method(console, 'log', () => {});
  t.mock.method(console, 'error', () => {});
  t.mock.method(fs, 'writeSync', () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  });
  syncBuiltinESMExports();
  t.after(() => {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  });
  const program = new Command().exitOverride();
  registerDataInspect(program);
  await assert.rejects(
    program.parseAsync(['data', 'inspect', root, '--size', '16', '--grid', grid], { from: 'user' }),
    (err: Error) => err.message === `${grid}: cannot write it (ENOSPC: no space left on device, write)`,
  );
  assert.deepEqual(readdirSync(join(dir, 'out')), []);
});
