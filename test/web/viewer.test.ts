// The viewer in a real browser against the real server: build the page when it is missing or older than its
// sources, train the two tiny models, start `tumorscope serve`'s server on them, upload one patient's slices
// through the file input (a ground-truth mask too, which the page must leave out) and check what a user sees: the
// mask drawn pixel for pixel over the slice, the probability in the text and the strip, the permanent notice; then
// the downloads, a whole patient folder, a drop, and a server error shown as it was given; the planes and 3-D view
// (NiiVue on WebGL2, here SwiftShader) read pixel by pixel against the mask volume, for slices, for a NIfTI upload
// and for a dropped DICOM series; and the in-browser inference. Saves screenshots to .tmp/artifacts/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { readTiff } from '../../src/data/read-image.ts';
import { setNumThreads } from '../../src/engine/index.ts';
import { readOnnxMetadata } from '../../src/export/index.ts';
import { type RunningServer, startServer } from '../../src/server/server.ts';
import { parseNifti } from '../../src/volume/nifti.ts';
import type { PredictResponse } from '../../web/src/api-types.ts';
import { bytesOfDataUrl } from '../../web/src/exports.ts';
import { formatProbability } from '../../web/src/format.ts';
import { TUMOUR_RGB } from '../../web/src/mask-overlay.ts';
import { initialSliceIndex, slicesByPatient } from '../../web/src/slice-order.ts';
import { encodeTiff, repoRoot } from '../data/fixtures.ts';
import { hasTumour, SLICES_PER_PATIENT, writeVisibleTumours } from '../helpers/visible-tumours.ts';
import { gridAffine, testDicomSeries, testNiftiBytes, writeTestDicomSeries } from '../helpers/volumes.ts';
import { TEST_PATIENTS, trainTinyModels } from '../pipeline/fixtures.ts';

// One libtorch thread for the tiny training: on a busy machine, more threads than free cores spin and crawl.
setNumThreads(1);

const CHROMIUM = '/usr/bin/chromium';
const noBrowser = existsSync(CHROMIUM)
  ? undefined
  : `no browser: ${CHROMIUM} is missing (apt-get install -y chromium)`;
/**
 * Waits on the server's or the page's inference take no time limit: the server answers every request and the
 * page shows an error when it fails, however slow the machine. Waits on a redraw keep Playwright's 30 s.
 */
const INFERENCE = { timeout: 0 };
/**
 * Pages that show the planes wait longer on everything: NiiVue draws through SwiftShader, on the CPU, and one
 * draw of four tiles takes seconds on a loaded machine.
 */
const SWIFTSHADER_TIMEOUT_MS = 300_000;
/** Loading the page: on a machine busy with other work, serving and parsing it can take more than 30 s. */
const PAGE_LOAD = { timeout: SWIFTSHADER_TIMEOUT_MS };
const WEB = join(repoRoot, 'web');
const SCREENSHOT = join(repoRoot, '.tmp', 'artifacts', 'viewer.png');

/** The little of the DOM these checks use: the test is type-checked with Node's types, not the DOM library. */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  };
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Builds web/dist unless it is newer than every source of the page (src/ too: the page imports the core). */
function ensureBuilt(): void {
  const built = join(WEB, 'dist', 'index.html');
  const sources = Math.max(
    newestMtime(join(WEB, 'src')),
    newestMtime(join(WEB, 'index.html')),
    newestMtime(join(repoRoot, 'src')),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  execFileSync('npx', ['--no-install', 'vite', 'build', 'web', '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
}

async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent()) ?? '';
}

/**
 * Sets the tiny classifier's threshold to 0, so that every slice reaches the segmenter: what is under test is
 * the viewer, and a classifier trained for two epochs sits too close to its threshold to decide reliably
 * whether there is a mask to show.
 */
function callEverySliceTumour(classifierBase: string): void {
  const path = `${classifierBase}.json`;
  const config = JSON.parse(readFileSync(path, 'utf8')) as { threshold: number };
  writeFileSync(path, JSON.stringify({ ...config, threshold: 0 }));
}

/** Pixels of a canvas with alpha > 0 (the overlay is transparent except where it draws the mask). */
function drawnPixels(page: Page, selector: string): Promise<number> {
  return page.locator(selector).evaluate((element) => {
    const canvas = element as unknown as CanvasLike;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let drawn = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) drawn++;
    return drawn;
  });
}

/** Distinct colours on a canvas: a drawn strip has bars, a threshold line and a marker over its background. */
function colourCount(page: Page, selector: string): Promise<number> {
  return page.locator(selector).evaluate((element) => {
    const canvas = element as unknown as CanvasLike;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4)
      colours.add(((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0));
    return colours.size;
  });
}

/**
 * Height in pixels of each slice's bar on the strip, read off the canvas: from the strip's bottom padding up
 * to the highest pixel in a bar colour, in a column a quarter into the slice's place (clear of the marker).
 */
function barHeights(page: Page, count: number): Promise<{ heights: number[]; usable: number }> {
  return page.locator('#strip-canvas').evaluate((element, count) => {
    const canvas = element as unknown as CanvasLike;
    const { width, height } = canvas;
    const { data } = canvas.getContext('2d').getImageData(0, 0, width, height);
    const padding = 6; // strip-view.ts at a device pixel ratio of 1
    const bottom = height - padding;
    // No helper functions in here: tsx wraps them in a __name() that the page does not have.
    const heights: number[] = [];
    for (let i = 0; i < count; i++) {
      const x = Math.floor(((i + 0.25) * width) / count);
      let top = bottom;
      for (let y = 0; y < bottom; y++) {
        const o = (y * width + x) * 4;
        const [r, g, b] = [data[o] ?? 0, data[o + 1] ?? 0, data[o + 2] ?? 0];
        const above = r === 0xff && g === 0x6a && b === 0x3d;
        const below = r === 0x5b && g === 0x66 && b === 0x78;
        if (above || below) {
          top = y;
          break;
        }
      }
      heights.push(bottom - top);
    }
    return { heights, usable: height - 2 * padding };
  }, count);
}

/** A screenshot of an element as RGB pixels (one CSS pixel each: the pages run at a device pixel ratio of 1). */
interface Picture {
  data: Buffer;
  width: number;
  height: number;
}

async function pictureOf(page: Page, selector: string): Promise<Picture> {
  const png = await page.locator(selector).screenshot();
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function rgbAt(picture: Picture, x: number, y: number): [number, number, number] {
  const o = (y * picture.width + x) * 3;
  return [picture.data[o]!, picture.data[o + 1]!, picture.data[o + 2]!];
}

/** The mask's colour at full opacity; the MRI under it is grey and the crosshair cyan, neither comes close. */
function isTumourColour([r, g, b]: [number, number, number]): boolean {
  return (
    Math.abs(r - TUMOUR_RGB[0]) <= 12 &&
    Math.abs(g - TUMOUR_RGB[1]) <= 12 &&
    Math.abs(b - TUMOUR_RGB[2]) <= 12
  );
}

/** NiiVue's crosshair (volume-view.ts), drawn over whatever it crosses. */
function isCrosshairColour([r, g, b]: [number, number, number]): boolean {
  return r < 120 && g > 150 && b > 200;
}

/** Where NiiVue drew each plane, in canvas pixels: [left, top, width, height] by plane name. */
async function tilesOf(page: Page): Promise<Record<string, [number, number, number, number]>> {
  const json = (await page.locator('#volume-canvas').getAttribute('data-tiles')) ?? '[]';
  const tiles = JSON.parse(json) as { plane: string; box: [number, number, number, number] }[];
  return Object.fromEntries(tiles.map((t) => [t.plane, t.box]));
}

/**
 * How a plane's pixels agree with the mask it should show: `expected(u, v)` says whether the cell at column u
 * and row v of a cols × rows grid over the tile is tumour. Pixels near a cell's edge are left out (the tile's
 * box is rounded to whole pixels), and so are the crosshair's.
 */
function planeAgreement(
  picture: Picture,
  [left, top, width, height]: readonly number[],
  cols: number,
  rows: number,
  expected: (u: number, v: number) => boolean,
): { inside: number; tumourInside: number; strayOutside: number } {
  let inside = 0;
  let tumourInside = 0;
  let strayOutside = 0;
  for (let y = top!; y < top! + height!; y++) {
    for (let x = left!; x < left! + width!; x++) {
      const fu = ((x + 0.5 - left!) / width!) * cols;
      const fv = ((y + 0.5 - top!) / height!) * rows;
      const [du, dv] = [fu - Math.floor(fu), fv - Math.floor(fv)];
      if (du < 0.2 || du > 0.8 || dv < 0.2 || dv > 0.8) continue;
      const rgb = rgbAt(picture, x, y);
      if (isCrosshairColour(rgb)) continue;
      const tumour = isTumourColour(rgb);
      if (expected(Math.floor(fu), Math.floor(fv))) {
        inside++;
        if (tumour) tumourInside++;
      } else if (tumour) strayOutside++;
    }
  }
  return { inside, tumourInside, strayOutside };
}

/** Pixels of a box in the tumour colour. */
function tumourPixels(picture: Picture, [left, top, width, height]: readonly number[]): number {
  let n = 0;
  for (let y = top!; y < top! + height!; y++)
    for (let x = left!; x < left! + width!; x++) if (isTumourColour(rgbAt(picture, x, y))) n++;
  return n;
}

/** Pixels of a box that differ from the canvas background (NiiVue's backColor, volume-view.ts). */
function drawnOverBackground(picture: Picture, [left, top, width, height]: readonly number[]): number {
  let n = 0;
  for (let y = top!; y < top! + height!; y++) {
    for (let x = left!; x < left! + width!; x++) {
      const [r, g, b] = rgbAt(picture, x, y);
      if (Math.abs(r - 20) + Math.abs(g - 26) + Math.abs(b - 41) > 30) n++;
    }
  }
  return n;
}

/** Mean absolute difference of two pictures over a box. */
function meanDifference(a: Picture, b: Picture, [left, top, width, height]: readonly number[]): number {
  let sum = 0;
  for (let y = top!; y < top! + height!; y++)
    for (let x = left!; x < left! + width!; x++) {
      const [p, q] = [rgbAt(a, x, y), rgbAt(b, x, y)];
      sum += Math.abs(p[0] - q[0]) + Math.abs(p[1] - q[1]) + Math.abs(p[2] - q[2]);
    }
  return sum / (3 * width! * height!);
}

/** Sets the page's mask opacity slider and waits for the planes to take it. */
async function setOpacity(page: Page, percent: number): Promise<void> {
  await page.locator('#opacity-slider').fill(String(percent));
  await page.locator(`#volume-canvas[data-opacity="${percent / 100}"]`).waitFor({ state: 'attached' });
}

/** A copy of a saved model (`<base>.json` + `.safetensors`) under `to`, its config changed by `edit`. */
function copyModel(from: string, to: string, edit: (config: Record<string, unknown>) => void): string {
  const config = JSON.parse(readFileSync(`${from}.json`, 'utf8')) as Record<string, unknown>;
  edit(config);
  writeFileSync(`${to}.json`, JSON.stringify(config));
  copyFileSync(`${from}.safetensors`, `${to}.safetensors`);
  return to;
}

/** A 0/255 mask PNG data URL as 0/1 pixels. */
async function maskPixels(dataUrl: string): Promise<Uint8Array> {
  const png = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
  const red = await sharp(png).extractChannel(0).raw().toBuffer();
  return Uint8Array.from(red, (v) => (v >= 128 ? 1 : 0));
}

/** The server's answer for these files, asked directly (not through the page). */
async function serverAnswer(url: string, paths: readonly string[]): Promise<PredictResponse> {
  const form = new FormData();
  for (const path of paths) form.append('files', new Blob([readFileSync(path)]), path.split('/').pop());
  const response = await fetch(`${url}/api/predict`, { method: 'POST', body: form });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as PredictResponse;
}

// Without the browser the suite is skipped, and one test stands for it in the runner's totals (which leave out
// skipped suites): skipped on a developer's machine, failed in CI, where a run without it has not tested the viewer.
const inCi = /^(?!0$|false$)./i.test(process.env['CI'] ?? '');
if (noBrowser) {
  it('browser viewer', { skip: !inCi && noBrowser }, () => {
    assert.fail(`${noBrowser}; CI is set, so the viewer test fails instead of skipping`);
  });
}
describe('browser viewer', { skip: noBrowser ?? false }, () => {
  let tmp: string;
  let data: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let models: { classifier: string; segmenter: string };
  /** The API's answer to the upload, for the download checks. */
  let lastResult: PredictResponse;

  before(async () => {
    ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'tumorscope-viewer-'));
    data = writeVisibleTumours(join(tmp, 'data'));
    models = await trainTinyModels(data, join(tmp, 'runs'));
    callEverySliceTumour(models.classifier);
    server = await startServer({
      port: 0,
      classifier: models.classifier,
      segmenter: models.segmenter,
      threads: 1,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        // WebGL2 for NiiVue without a GPU: ANGLE on SwiftShader, which Chromium only allows when asked.
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url, PAGE_LOAD);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('shows the permanent notice and the models', async () => {
    await page.getByText('Research tool, not a diagnostic device.').waitFor({ state: 'visible' });
    await page.locator('#model-info dl').first().waitFor();
    const models = await textOf(page, '#model-info');
    assert.match(models, /Threshold/);
    assert.match(await textOf(page, '#server-status'), /Server ok/);
  });

  it('keeps a usable layout in an 800 px window: the image and the patient list keep their size', async () => {
    await page.setViewportSize({ width: 800, height: 800 });
    try {
      // Whichever view shows the image: the planes (the default) or the single slice.
      const image = await page
        .locator('#volume-stack:not([hidden]), #canvas-stack:not([hidden])')
        .first()
        .boundingBox();
      const patients = await page.locator('#patient-select').boundingBox();
      // Three columns squeezed the image to ~200 px and the patient list to one letter.
      assert.ok(image && image.width >= 480, `image ${image?.width} px wide`);
      assert.ok(patients && patients.width >= 200, `patient list ${patients?.width} px wide`);
      const page800 = Number(await page.evaluate('document.documentElement.scrollWidth'));
      assert.ok(page800 <= 800, `the page is ${page800} px wide`);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('draws the predicted mask over an uploaded slice, with its probability in the text and the strip', async () => {
    const patient = TEST_PATIENTS[0]!;
    const folder = join(data, patient);
    const slices = Array.from({ length: SLICES_PER_PATIENT }, (_, i) =>
      join(folder, `${patient}_${i + 1}.tif`),
    );
    // One ground-truth mask among them: the page skips it (the server would refuse it).
    await page.locator('#file-input').setInputFiles([...slices, join(folder, `${patient}_2_mask.tif`)]);
    assert.match(await textOf(page, '#selection-summary'), /8 slices chosen; skipped 1 _mask file/);

    const answer = page.waitForResponse((r) => r.url().includes('/api/predict'), INFERENCE);
    await page.getByRole('button', { name: 'Find tumours' }).click();
    const response = await answer;
    assert.equal(response.status(), 200, await response.text());
    const result = (await response.json()) as PredictResponse;
    lastResult = result;
    assert.equal(result.slices.length, SLICES_PER_PATIENT);

    // The page opens on the largest predicted tumour, which the tiny segmenter must find on a bright square.
    const largest = Math.max(...result.slices.map((s) => s.areaPixels));
    const shown = result.slices.find((s) => s.areaPixels === largest && s.mask !== null);
    assert.ok(shown, `no slice with a mask: areas ${result.slices.map((s) => s.areaPixels).join(' ')}`);
    assert.ok(hasTumour(shown.slice), `slice ${shown.slice} has no tumour in the data`);
    await page.locator(`#overlay-canvas[data-slice="${shown.name}"]`).waitFor({ state: 'attached' });

    // Fill mode draws exactly the mask's pixels, at the image's own resolution.
    assert.equal(await drawnPixels(page, '#overlay-canvas'), shown.areaPixels);
    assert.ok(shown.areaPixels > 0);

    const probability = formatProbability(shown.probability);
    const details = await textOf(page, '#slice-details');
    assert.ok(details.includes(shown.name), details);
    assert.ok(details.includes(probability), `${probability} not in ${details}`);
    const strip = page.locator('#strip-canvas');
    assert.match(
      (await strip.getAttribute('aria-valuetext')) ?? '',
      new RegExp(`P\\(tumour\\) ${probability}`),
    );
    assert.ok((await colourCount(page, '#strip-canvas')) >= 3, 'the strip draws bars, threshold and marker');
    // Every slice's bar is as tall as its probability.
    const bars = await barHeights(page, result.slices.length);
    result.slices.forEach((s, i) => {
      const want = Math.max(1, s.probability * bars.usable);
      assert.ok(
        Math.abs(bars.heights[i]! - want) <= 2,
        `bar ${i}: ${bars.heights[i]} px for P ${s.probability} (${want.toFixed(1)} px expected)`,
      );
    });
    await page.getByText('Research tool, not a diagnostic device.').waitFor({ state: 'visible' });

    mkdirSync(join(repoRoot, '.tmp', 'artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    // Outline mode draws only the border; off draws nothing.
    await page.getByLabel('Outline').check();
    await page.locator('#overlay-canvas[data-mode="outline"]').waitFor({ state: 'attached' });
    const outline = await drawnPixels(page, '#overlay-canvas');
    assert.ok(outline > 0 && outline < shown.areaPixels, `outline ${outline} of ${shown.areaPixels}`);
    await page.getByLabel('Off').check();
    await page.locator('#overlay-canvas[data-mode="off"]').waitFor({ state: 'attached' });
    assert.equal(await drawnPixels(page, '#overlay-canvas'), 0);
    await page.getByLabel('Fill').check();

    // Keys step through the volume (here on the strip, a keyboard slider), the mouse wheel too, and a click
    // on the strip picks the slice under it.
    const index = result.slices.indexOf(shown);
    const neighbour = result.slices[index > 0 ? index - 1 : index + 1]!;
    await page.locator('#strip-canvas').press(index > 0 ? 'ArrowLeft' : 'ArrowRight');
    await page.locator(`#overlay-canvas[data-slice="${neighbour.name}"]`).waitFor({ state: 'attached' });
    assert.ok((await textOf(page, '#slice-details')).includes(neighbour.name));
    // The wheel over the slice view (the planes take the wheel themselves: see the NiiVue test).
    await page.locator('input[name="view"][value="slice"]').check();
    await page.locator('#canvas-stack').hover();
    await page.mouse.wheel(0, index > 0 ? 100 : -100);
    await page.locator(`#overlay-canvas[data-slice="${shown.name}"]`).waitFor({ state: 'attached' });
    const box = (await strip.boundingBox())!;
    const last = result.slices.length - 1;
    await strip.click({
      position: { x: ((last + 0.5) * box.width) / result.slices.length, y: box.height / 2 },
    });
    await page
      .locator(`#overlay-canvas[data-slice="${result.slices[last]!.name}"]`)
      .waitFor({ state: 'attached' });
  });

  it('downloads every mask as a zip built in the page, and the predictions as JSON', async () => {
    const [zipDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'All masks (.zip)' }).click(),
    ]);
    const files = unzipSync(readFileSync(await zipDownload.path()));
    const withMasks = lastResult.slices.filter((s) => s.mask !== null);
    assert.deepEqual(
      Object.keys(files).sort(),
      withMasks.map((s) => `${s.patient}/${s.name.replace(/\.tif$/, '_mask.png')}`).sort(),
    );
    const [jsonDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Predictions (.json)' }).click(),
    ]);
    const json = JSON.parse(readFileSync(await jsonDownload.path(), 'utf8')) as PredictResponse;
    assert.equal(json.slices.length, lastResult.slices.length);
    assert.equal(json.slices[0]!.image, undefined, 'without the slice images');
  });

  it('takes a whole patient folder, leaving its ground-truth masks out', async () => {
    const patient = TEST_PATIENTS[1]!;
    await page.locator('#folder-input').setInputFiles(join(data, patient));
    assert.match(await textOf(page, '#selection-summary'), /8 slices chosen; skipped 8 _mask files/);
    const answer = page.waitForResponse((r) => r.url().includes('/api/predict'), INFERENCE);
    await page.getByRole('button', { name: 'Find tumours' }).click();
    assert.equal((await answer).status(), 200);
    await page.locator('#patient-details').getByText(patient).waitFor();
  });

  it('takes dropped files, leaving ground-truth masks out', async () => {
    // A drop built in the page (a real folder drag cannot be scripted; the files fall back to dataTransfer.files).
    const drop = await page.evaluateHandle(`(() => {
      const data = new DataTransfer();
      for (const name of ['P_1.tif', 'P_1_mask.tif', 'notes.txt']) data.items.add(new File(['x'], name));
      return data;
    })()`);
    await page.locator('#drop-zone').dispatchEvent('drop', { dataTransfer: drop });
    await page.getByText('1 slice chosen; skipped 1 _mask file, 1 other file.').waitFor();
  });

  it('shows an error from the API as it was given', async () => {
    await page.locator('#file-input').setInputFiles({
      name: 'not-a-slice.tif',
      mimeType: 'image/tiff',
      buffer: Buffer.from('hello, I am text'),
    });
    await page.getByRole('button', { name: 'Find tumours' }).click();
    const error = page.locator('#error');
    await error.waitFor({ state: 'visible', ...INFERENCE });
    const text = await textOf(page, '#error');
    assert.match(text, /415/);
    assert.match(text, /not-a-slice\.tif/);
  });

  it('shows the patient in NiiVue: three planes and a 3-D render, the mask where predicted and nowhere else', async (t) => {
    const planesPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    planesPage.setDefaultTimeout(SWIFTSHADER_TIMEOUT_MS);
    try {
      await planesPage.goto(server.url, PAGE_LOAD);
      const patient = TEST_PATIENTS[0]!;
      const paths = Array.from({ length: SLICES_PER_PATIENT }, (_, i) =>
        join(data, patient, `${patient}_${i + 1}.tif`),
      );
      await planesPage.locator('#file-input').setInputFiles(paths);
      const answer = planesPage.waitForResponse((r) => r.url().includes('/api/predict'), INFERENCE);
      await planesPage.getByRole('button', { name: 'Find tumours' }).click();
      const result = (await (await answer).json()) as PredictResponse;
      const canvas = planesPage.locator('#volume-canvas');
      await planesPage
        .locator('#volume-canvas[data-ready="true"]')
        .waitFor({ state: 'attached', ...INFERENCE });
      assert.equal(
        await planesPage.locator('#volume-stack').isVisible(),
        true,
        'the planes are the first view',
      );
      assert.match(await textOf(planesPage, '#view-note'), /1 mm voxels/);
      assert.equal(await planesPage.locator('#sequence-select').inputValue(), '1', 'FLAIR first');

      // The mask volume the planes must show: slice k of the patient (in slice order) is voxel index k.
      const slices = slicesByPatient(result.slices).get(patient)!;
      const size = slices[0]!.width;
      const masks = await Promise.all(
        slices.map((s) => (s.mask ? maskPixels(s.mask) : new Uint8Array(size * size))),
      );
      const depth = masks.length;
      const shown = Number(await canvas.getAttribute('data-slice'));
      assert.equal(shown, initialSliceIndex(slices), 'the largest tumour first, as the slice view');
      assert.ok(
        (await textOf(planesPage, '#slice-details')).includes(slices[shown]!.name),
        'the planes open at the slice the page shows',
      );
      const tumour = masks[shown]!;
      assert.ok(
        tumour.some((v) => v > 0),
        `slice ${shown} has no predicted tumour to look at`,
      );

      // Through the middle of the tumour: a click there on the axial plane moves the other two planes onto it.
      let [sx, sy, n] = [0, 0, 0];
      tumour.forEach((v, p) => {
        if (v) [sx, sy, n] = [sx + (p % size), sy + Math.floor(p / size), n + 1];
      });
      const [cx, cy] = [Math.round(sx / n - 0.5), Math.round(sy / n - 0.5)];
      await setOpacity(planesPage, 100);
      const tiles = await tilesOf(planesPage);
      assert.deepEqual(Object.keys(tiles).sort(), ['axial', 'coronal', 'render', 'sagittal']);
      const [al, at, aw, ah] = tiles['axial']!;
      await canvas.click({
        position: { x: al + ((cx + 0.5) * aw) / size, y: at + ((cy + 0.5) * ah) / size },
      });
      const picture = await pictureOf(planesPage, '#volume-canvas');
      await planesPage.screenshot({ path: join(repoRoot, '.tmp', 'artifacts', 'viewer-planes.png') });

      // Each plane has the shape of its cut through the 32 × 32 × 8 volume of 1 mm voxels…
      const aspect = (box: number[]) => box[2]! / box[3]!;
      assert.ok(Math.abs(aspect(tiles['axial']!) - 1) < 0.05, `axial ${tiles['axial']}`);
      assert.ok(Math.abs(aspect(tiles['coronal']!) - size / depth) < 0.2, `coronal ${tiles['coronal']}`);
      assert.ok(Math.abs(aspect(tiles['sagittal']!) - size / depth) < 0.2, `sagittal ${tiles['sagittal']}`);
      // …and shows the mask exactly where that cut meets it: the axial plane the shown slice (the patient's
      // right on the left, anterior at the top), the coronal plane row cy of every slice, the sagittal
      // plane column cx (anterior on the right), superior at the top of both.
      const at3 = (x: number, y: number, k: number) => (masks[k]![y * size + x] ?? 0) > 0;
      const planes = {
        axial: planeAgreement(picture, tiles['axial']!, size, size, (u, v) => at3(u, v, shown)),
        coronal: planeAgreement(picture, tiles['coronal']!, size, depth, (u, v) => at3(u, cy, depth - 1 - v)),
        sagittal: planeAgreement(picture, tiles['sagittal']!, size, depth, (u, v) =>
          at3(cx, size - 1 - u, depth - 1 - v),
        ),
      };
      t.diagnostic(`planes: ${JSON.stringify(planes)}`);
      for (const [plane, agreement] of Object.entries(planes)) {
        assert.ok(agreement.inside > 0, `${plane}: the cut meets the tumour`);
        // All of it in the tumour colour, but for a few pixels the crosshair's edge may blend.
        assert.ok(
          agreement.tumourInside >= 0.97 * agreement.inside,
          `${plane}: ${JSON.stringify(agreement)}`,
        );
        assert.equal(agreement.strayOutside, 0, `${plane}: tumour colour outside the mask`);
      }
      const render = tiles['render']!;
      assert.ok(
        drawnOverBackground(picture, render) > 0.05 * render[2]! * render[3]!,
        'the 3-D render draws',
      );
      t.diagnostic(`3-D render: ${tumourPixels(picture, render)} pixels in the tumour colour`);

      // Outline draws less of the same tumour; off draws none of it anywhere.
      await planesPage.getByLabel('Outline').check();
      await planesPage.locator('#volume-canvas[data-mode="outline"]').waitFor({ state: 'attached' });
      const outline = tumourPixels(await pictureOf(planesPage, '#volume-canvas'), tiles['axial']!);
      const fill = tumourPixels(picture, tiles['axial']!);
      assert.ok(outline > 0 && outline < fill, `outline ${outline} of fill ${fill} pixels`);
      await planesPage.getByLabel('Off').check();
      await planesPage.locator('#volume-canvas[data-mode="off"]').waitFor({ state: 'attached' });
      const off = await pictureOf(planesPage, '#volume-canvas');
      assert.equal(tumourPixels(off, [0, 0, off.width, off.height]), 0);
      await planesPage.getByLabel('Fill').check();

      // Keys step the planes as they step the page; a click on the coronal plane picks the slice it hits.
      const next = shown > 0 ? shown - 1 : shown + 1;
      // On the focused canvas: the page takes the arrows before NiiVue, whose arrows move within a plane.
      await canvas.press(shown > 0 ? 'ArrowLeft' : 'ArrowRight');
      await planesPage.locator(`#volume-canvas[data-slice="${next}"]`).waitFor({ state: 'attached' });
      assert.ok((await textOf(planesPage, '#slice-details')).includes(slices[next]!.name));
      const [ol, ot, ow, oh] = tiles['coronal']!;
      // Away from the ends of the volume, so that the wheel below can move either way.
      const target = shown >= depth / 2 ? 1 : depth - 2;
      await canvas.click({ position: { x: ol + ow / 2, y: ot + ((depth - 1 - target + 0.5) * oh) / depth } });
      await planesPage.locator(`#volume-canvas[data-slice="${target}"]`).waitFor({ state: 'attached' });
      await planesPage.getByText(slices[target]!.name, { exact: true }).waitFor();
      assert.equal(await planesPage.locator('#strip-canvas').getAttribute('aria-valuenow'), String(target));
      // The wheel over the axial plane moves through the slices too (NiiVue's own scrolling, reported back).
      const place = (await canvas.boundingBox())!;
      await planesPage.mouse.move(place.x + al + aw / 2, place.y + at + ah / 2);
      await planesPage.mouse.wheel(0, 100);
      await planesPage.locator(`#volume-canvas:not([data-slice="${target}"])`).waitFor({ state: 'attached' });
      const moved = Number(await canvas.getAttribute('data-slice'));
      assert.equal(Math.abs(moved - target), 1);
      assert.equal(await planesPage.locator('#strip-canvas').getAttribute('aria-valuenow'), String(moved));
    } finally {
      await planesPage.close();
    }
  });

  it('sends a NIfTI volume to the server and shows it in its own voxel size under the mask.nii.gz returned', async () => {
    // One 4-D volume of a test patient's slices, 0.9 × 0.9 × 3 mm, stored as the slices show it (LPS); the
    // pre-contrast channel's background noise mirrored (40…89 → 89…40, the tumour left as it is) so that
    // switching sequences changes the picture but not what the models find.
    const patient = TEST_PATIENTS[1]!;
    const images = Array.from({ length: SLICES_PER_PATIENT }, (_, i) =>
      readTiff(join(data, patient, `${patient}_${i + 1}.tif`)),
    );
    const size = images[0]!.width;
    const depth = images.length;
    const { affine, dims } = gridAffine({ size: [size, size, depth], spacing: [0.9, 0.9, 3] }, [
      'L',
      'P',
      'S',
    ]);
    const voxels = size * size * depth;
    const values = new Uint8Array(voxels * 3);
    images.forEach((image, k) => {
      for (let p = 0; p < size * size; p++) {
        for (let c = 0; c < 3; c++) {
          const v = image.data[p * image.channels + (image.channels === 3 ? c : 0)]!;
          values[c * voxels + k * size * size + p] = c === 0 && v < 200 ? 129 - v : v;
        }
      }
    });
    const file = join(tmp, `${patient}.nii.gz`);
    writeFileSync(file, testNiftiBytes({ shape: [...dims, 3], type: 'uint8', values, affine, gzip: true }));

    const volumePage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    volumePage.setDefaultTimeout(SWIFTSHADER_TIMEOUT_MS);
    try {
      await volumePage.goto(server.url, PAGE_LOAD);
      await volumePage.locator('#file-input').setInputFiles(file);
      assert.match(await textOf(volumePage, '#selection-summary'), /^1 NIfTI volume chosen\.$/);
      // In this browser, a volume is refused: its reader runs on the server only, and nothing is sent.
      await volumePage.getByLabel('In this browser').check();
      await volumePage.getByRole('button', { name: 'Find tumours' }).click();
      await volumePage
        .locator('#error')
        .getByText(/NIfTI volumes are run on the server only/)
        .waitFor();
      await volumePage.getByLabel('On the server').check();

      const [response] = await Promise.all([
        volumePage.waitForResponse((r) => r.url().includes('/api/predict'), INFERENCE),
        volumePage.getByRole('button', { name: 'Find tumours' }).click(),
      ]);
      assert.equal(response.status(), 200, await response.text());
      const result = (await response.json()) as PredictResponse;
      // Only the server's NIfTI upload answers with the volume part.
      assert.ok(result.volume, 'the answer has the volume part');
      await volumePage
        .locator('#volume-canvas[data-ready="true"]')
        .waitFor({ state: 'attached', ...INFERENCE });
      assert.equal(await volumePage.locator('#view-note').isVisible(), false, 'no 1 mm assumption');
      assert.deepEqual(await volumePage.locator('#sequence-select option').allTextContents(), [
        'pre-contrast',
        'FLAIR',
        'post-contrast',
      ]);

      // The axial plane shows the server's mask.nii.gz at the shown slice, and the others have the volume's
      // own shape in millimetres (3 mm slices).
      const mask = parseNifti(bytesOfDataUrl(result.volume.mask), 'mask.nii.gz');
      assert.deepEqual(mask.dims, dims);
      const shown = Number(await volumePage.locator('#volume-canvas').getAttribute('data-slice'));
      const inMask = (x: number, y: number, k: number) => (mask.data[x + size * (y + size * k)] ?? 0) > 0;
      await setOpacity(volumePage, 100);
      const tiles = await tilesOf(volumePage);
      const flair = await pictureOf(volumePage, '#volume-canvas');
      const axial = planeAgreement(flair, tiles['axial']!, size, size, (u, v) => inMask(u, v, shown));
      assert.ok(axial.inside > 0, `slice ${shown}: no tumour in mask.nii.gz to look at`);
      assert.ok(axial.tumourInside >= 0.97 * axial.inside, JSON.stringify(axial));
      assert.equal(axial.strayOutside, 0);
      const coronal = tiles['coronal']!;
      const want = (size * 0.9) / (depth * 3);
      assert.ok(
        Math.abs(coronal[2]! / coronal[3]! - want) < 0.1,
        `coronal ${coronal}, ${want} wide per tall`,
      );

      await volumePage.locator('#sequence-select').selectOption({ label: 'pre-contrast' });
      await volumePage.locator('#volume-canvas[data-sequence="pre-contrast"]').waitFor({ state: 'attached' });
      const pre = await pictureOf(volumePage, '#volume-canvas');
      const difference = meanDifference(flair, pre, tiles['axial']!);
      assert.ok(difference > 5, `another sequence, another picture (mean difference ${difference})`);

      const [download] = await Promise.all([
        volumePage.waitForEvent('download'),
        volumePage.getByRole('button', { name: 'Mask volume (.nii.gz)' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), `${patient}_mask.nii.gz`);
      assert.deepEqual(
        new Uint8Array(readFileSync(await download.path())),
        bytesOfDataUrl(result.volume.mask),
      );
    } finally {
      await volumePage.close();
    }
  });

  it('sends a dropped DICOM series to the server and shows the volume it read under the mask returned', async () => {
    // A test patient's slices as a FLAIR series of 16-bit files, 0.9 × 0.9 × 3 mm, stored as the slices show it
    // (LPS). One voxel at 0 and one at 255 keep the series' min-to-max mapping on the slices' own 8-bit scale.
    const patient = TEST_PATIENTS[1]!;
    const images = Array.from({ length: SLICES_PER_PATIENT }, (_, i) =>
      readTiff(join(data, patient, `${patient}_${i + 1}.tif`)),
    );
    const size = images[0]!.width;
    const depth = images.length;
    const { affine, dims } = gridAffine({ size: [size, size, depth], spacing: [0.9, 0.9, 3] }, [
      'L',
      'P',
      'S',
    ]);
    const values = new Uint16Array(size * size * depth);
    images.forEach((image, k) => {
      for (let p = 0; p < size * size; p++) values[k * size * size + p] = image.data[p * image.channels]!;
    });
    values[0] = 0;
    values[values.indexOf(230)] = 255;
    const files = testDicomSeries(affine, dims, values).map((f) => ({
      name: f.name,
      base64: Buffer.from(f.bytes).toString('base64'),
    }));

    const dicomPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    dicomPage.setDefaultTimeout(SWIFTSHADER_TIMEOUT_MS);
    try {
      await dicomPage.goto(server.url, PAGE_LOAD);
      // Dropped loose files (a scripted drop has no folder entries): one series, taken as FLAIR. Their names
      // have no extension: the page reads their first bytes to know them as DICOM.
      const drop = await dicomPage.evaluateHandle(`(() => {
        const data = new DataTransfer();
        for (const f of ${JSON.stringify(files)}) {
          const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
          data.items.add(new File([bytes], f.name));
        }
        data.items.add(new File(['scanned on a Tuesday'], 'notes.txt'));
        return data;
      })()`);
      await dicomPage.locator('#drop-zone').dispatchEvent('drop', { dataTransfer: drop });
      await dicomPage.getByText(`DICOM FLAIR (${depth} files) chosen; skipped 1 other file.`).waitFor();
      await dicomPage.getByLabel('In this browser').check();
      await dicomPage.getByRole('button', { name: 'Find tumours' }).click();
      await dicomPage
        .locator('#error')
        .getByText(/DICOM series are run on the server only/)
        .waitFor();
      await dicomPage.getByLabel('On the server').check();

      const [response] = await Promise.all([
        dicomPage.waitForResponse((r) => r.url().includes('/api/predict'), INFERENCE),
        dicomPage.getByRole('button', { name: 'Find tumours' }).click(),
      ]);
      assert.equal(response.status(), 200, await response.text());
      assert.match(response.url(), /include=image,volume/);
      const result = (await response.json()) as PredictResponse;
      assert.ok(result.volume?.image, 'the answer carries the volume the server read');
      assert.deepEqual(
        result.slices.map((s) => s.name),
        images.map((_, k) => `DICOM slice ${k}`),
      );
      await dicomPage
        .locator('#volume-canvas[data-ready="true"]')
        .waitFor({ state: 'attached', ...INFERENCE });
      assert.equal(await dicomPage.locator('#view-note').isVisible(), false, 'no 1 mm assumption');
      assert.deepEqual(await dicomPage.locator('#sequence-select option').allTextContents(), ['FLAIR']);

      // The axial plane shows the returned volume with mask.nii.gz over it, at the shown slice, and the
      // coronal plane has the series' own shape in millimetres (3 mm slices).
      const mask = parseNifti(bytesOfDataUrl(result.volume.mask), 'mask.nii.gz');
      assert.deepEqual(mask.dims, dims);
      const shown = Number(await dicomPage.locator('#volume-canvas').getAttribute('data-slice'));
      const inMask = (x: number, y: number, k: number) => (mask.data[x + size * (y + size * k)] ?? 0) > 0;
      await setOpacity(dicomPage, 100);
      const tiles = await tilesOf(dicomPage);
      const picture = await pictureOf(dicomPage, '#volume-canvas');
      await dicomPage.screenshot({ path: join(repoRoot, '.tmp', 'artifacts', 'viewer-dicom.png') });
      const axial = planeAgreement(picture, tiles['axial']!, size, size, (u, v) => inMask(u, v, shown));
      assert.ok(axial.inside > 0, `slice ${shown}: no tumour in mask.nii.gz to look at`);
      assert.ok(axial.tumourInside >= 0.97 * axial.inside, JSON.stringify(axial));
      assert.equal(axial.strayOutside, 0);
      // Under the mask, the MRI: the slice's background drawn in grey where the mask is not.
      assert.ok(
        drawnOverBackground(picture, tiles['axial']!) > 0.5 * tiles['axial']![2]! * tiles['axial']![3]!,
      );
      const coronal = tiles['coronal']!;
      const want = (size * 0.9) / (depth * 3);
      assert.ok(
        Math.abs(coronal[2]! / coronal[3]! - want) < 0.1,
        `coronal ${coronal}, ${want} wide per tall`,
      );

      // A patient folder of series folders named by their sequence, opened as a folder: each in its field.
      const folder = join(tmp, 'dicom', patient);
      writeTestDicomSeries(join(folder, 'flair'), affine, dims, values);
      writeTestDicomSeries(join(folder, 'pre'), affine, dims, values);
      await dicomPage.locator('#folder-input').setInputFiles(folder);
      await dicomPage
        .getByText(`DICOM pre-contrast (${depth} files), FLAIR (${depth} files) chosen.`)
        .waitFor();
    } finally {
      await dicomPage.close();
    }
  });

  it('runs the models in the browser with onnxruntime-web, agreeing with the server', async (t) => {
    const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
    // The model files the page fetches: exported from the server's own models, metadata included.
    const onnx = await fetch(`${server.url}/api/models/classifier.onnx`);
    assert.equal(onnx.status, 200);
    assert.equal(readOnnxMetadata(new Uint8Array(await onnx.arrayBuffer()))['kind'], 'classifier');
    const missing = await fetch(`${server.url}/api/models/other.onnx`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: string }).error, /classifier\.onnx/);

    // A server whose models use every step the browser must repeat: gating at a threshold that splits the
    // patient's slices, flip TTA, small-component removal and the largest 3-D component.
    const patient = TEST_PATIENTS[0]!;
    const paths = Array.from({ length: SLICES_PER_PATIENT }, (_, i) =>
      join(data, patient, `${patient}_${i + 1}.tif`),
    );
    const scores = (await serverAnswer(server.url, paths)).slices
      .map((s) => s.probability)
      .sort((a, b) => a - b);
    // Halfway across the widest gap in the middle of the scores, so that float rounding cannot flip a call.
    let gate = 0;
    let widest = 0;
    for (let k = 2; k < scores.length - 2; k++) {
      const gap = scores[k + 1]! - scores[k]!;
      if (gap > widest) [gate, widest] = [(scores[k]! + scores[k + 1]!) / 2, gap];
    }
    if (widest < 1e-3) gate = 0;
    const classifier = copyModel(models.classifier, join(tmp, 'gated-classifier'), (c) => {
      c['threshold'] = gate;
    });
    const segmenter = copyModel(models.segmenter, join(tmp, 'all-steps-segmenter'), (c) => {
      const postprocess = c['postprocess'] as { threshold: number } | undefined;
      c['postprocess'] = {
        threshold: postprocess?.threshold ?? 0.5,
        minComponentArea: 3,
        largest3DComponent: true,
        tta: 'flips',
      };
    });
    let started = performance.now();
    const allSteps = await startServer({ port: 0, classifier, segmenter, threads: 1 });
    t.diagnostic(`second server started in ${seconds(started)}`);
    try {
      const expected = await serverAnswer(allSteps.url, paths);
      const browserPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const predictRequests: string[] = [];
      browserPage.on('request', (r) => {
        if (r.url().includes('/api/predict')) predictRequests.push(r.url());
      });
      await browserPage.goto(allSteps.url, PAGE_LOAD);
      await browserPage.getByLabel('In this browser').check();
      // One slice as a deflate-compressed TIFF of the same pixels: the page decodes it with the server's decoder.
      const compressed = join(tmp, 'deflate', basename(paths[0]!));
      mkdirSync(dirname(compressed), { recursive: true });
      const first = readTiff(paths[0]!);
      writeFileSync(
        compressed,
        encodeTiff({
          width: first.width,
          height: first.height,
          channels: first.channels,
          samples: first.data,
          compression: 'deflate',
        }),
      );
      await browserPage.locator('#file-input').setInputFiles([compressed, ...paths.slice(1)]);
      started = performance.now();
      await browserPage.getByRole('button', { name: 'Find tumours' }).click();
      await browserPage
        .getByText(`Done in this browser: ${SLICES_PER_PATIENT} slice(s).`)
        .or(browserPage.locator('#error:visible'))
        .waitFor(INFERENCE);
      assert.equal(
        await browserPage.locator('#error').isVisible(),
        false,
        await textOf(browserPage, '#error'),
      );
      assert.deepEqual(predictRequests, [], 'no slice went to the server');
      t.diagnostic(
        `in-browser prediction (models fetched, onnxruntime-web loaded, 8 slices) in ${seconds(started)}`,
      );

      const [download] = await Promise.all([
        browserPage.waitForEvent('download'),
        browserPage.getByRole('button', { name: 'Predictions (.json)' }).click(),
      ]);
      const actual = JSON.parse(readFileSync(await download.path(), 'utf8')) as PredictResponse;
      assert.equal(actual.notice, expected.notice);
      assert.deepEqual(actual.models, expected.models);
      assert.equal(actual.slices.length, expected.slices.length);
      const called = expected.slices.filter((s) => s.tumour).length;
      if (gate > 0) assert.ok(called > 0 && called < SLICES_PER_PATIENT, `gate ${gate} calls ${called}`);
      let tumourPixels = 0;
      for (const [k, want] of expected.slices.entries()) {
        const got = actual.slices[k]!;
        const where = `${want.name}`;
        assert.equal(got.name, want.name);
        assert.equal(got.patient, want.patient);
        assert.equal(got.slice, want.slice);
        assert.ok(
          Math.abs(got.probability - want.probability) < 1e-4,
          `${where}: P ${got.probability} in the browser, ${want.probability} on the server`,
        );
        assert.equal(got.tumour, want.tumour, where);
        assert.equal(got.mask === null, want.mask === null, where);
        if (!want.mask || !got.mask) continue;
        const [a, b] = await Promise.all([maskPixels(want.mask), maskPixels(got.mask)]);
        const differing = a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);
        // Float rounding may move a pixel whose probability sits on the threshold; no more.
        assert.ok(differing <= 2, `${where}: ${differing} mask pixels differ`);
        assert.ok(Math.abs(got.areaPixels - want.areaPixels) <= 2, where);
        tumourPixels += want.areaPixels;
      }
      assert.deepEqual(
        actual.patients.map((p) => [p.patient, p.slices, p.positiveSlices]),
        expected.patients.map((p) => [p.patient, p.slices, p.positiveSlices]),
      );
      assert.ok(tumourPixels > 0, 'the comparison covers some tumour');

      // And the page shows the in-browser answer as it shows the server's: the mask over the slice.
      const shown = await browserPage.locator('#overlay-canvas').getAttribute('data-slice');
      const slice = actual.slices.find((s) => s.name === shown)!;
      assert.equal(await drawnPixels(browserPage, '#overlay-canvas'), slice.areaPixels);
      await browserPage.screenshot({ path: join(repoRoot, '.tmp', 'artifacts', 'viewer-onnx.png') });
      await browserPage.close();
    } finally {
      await allSteps.close();
    }
  });
});
