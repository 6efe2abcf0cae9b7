// `tumorscope serve` over a real socket, with two tiny models trained here: health and models, predictions on
// real TIFF bytes (checked against predictSlices run in this process, every answer against the API's zod
// schemas) and on a zip, the refusals (400, 413,
// 415, 503) and their messages, static files without directory traversal, and health answering while the
// worker predicts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { MAX_SLICES_PER_PATIENT } from '../../src/data/slice-names.ts';
import { setNumThreads } from '../../src/engine/index.ts';
import { predictSlices } from '../../src/inference/predict-slices.ts';
import { type PredictResponse, predictResponseSchema } from '../../src/inference/prediction-schema.ts';
import { loadModels } from '../../src/pipeline/default-models.ts';
import { runnersOf } from '../../src/pipeline/load-model.ts';
import { sliceInputsFromFiles } from '../../src/pipeline/slice-inputs.ts';
import { healthSchema, modelsInfoSchema } from '../../src/server/api-schema.ts';
import type { InferenceService } from '../../src/server/inference-service.ts';
import { WorkerInference } from '../../src/server/inference-service.ts';
import { DEFAULT_LIMITS } from '../../src/server/limits.ts';
import { type RunningServer, startServer } from '../../src/server/server.ts';
import { parseNifti } from '../../src/volume/nifti.ts';
import { encodeTiff, pngBomb, tiffBomb } from '../data/fixtures.ts';
import { hasTumour, PATIENTS, SLICES_PER_PATIENT, writeVisibleTumours } from '../helpers/visible-tumours.ts';
import { testNiftiBytes } from '../helpers/volumes.ts';
import { trainTinyModels } from '../pipeline/fixtures.ts';
import { type FilePart, getJson, postFiles, raw, until } from './client.ts';

setNumThreads(1);

const PATIENT = PATIENTS[2]!;

/** A patient's slice files (no masks) as uploads. */
function sliceFiles(data: string, patient = PATIENT): FilePart[] {
  return Array.from({ length: SLICES_PER_PATIENT }, (_, i) => {
    const name = `${patient}_${i + 1}.tif`;
    return { name, bytes: readFileSync(join(data, patient, name)) };
  });
}

/** An InferenceService whose jobs wait until `release` is called: a slow job on demand. */
function held(inner: InferenceService): { service: InferenceService; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  return {
    service: {
      models: inner.models,
      predict: async (job) => {
        await gate;
        return inner.predict(job);
      },
      close: async () => {},
    },
    release,
  };
}

/**
 * The same slices, decisions and areas, P(tumour) within `tolerance`: another batch or engine rounds the last
 * float bits differently, which may flip a pixel that sits on the threshold, no more.
 */
function assertSameAnswer(got: PredictResponse, want: PredictResponse, tolerance: number): void {
  assert.equal(got.slices.length, want.slices.length);
  for (const [k, slice] of got.slices.entries()) {
    const w = want.slices[k]!;
    assert.equal(slice.name, w.name);
    assert.ok(Math.abs(slice.probability - w.probability) <= tolerance, `${slice.name} probability`);
    assert.equal(slice.tumour, w.tumour, slice.name);
    assert.ok(Math.abs(slice.areaPixels - w.areaPixels) <= 2, `${slice.name} area`);
  }
}

async function queueOf(url: string): Promise<{ running: number; waiting: number; limit: number }> {
  return (
    (await getJson(url, '/api/health')).body as { queue: { running: number; waiting: number; limit: number } }
  ).queue;
}

describe('tumorscope serve', () => {
  let dir: string;
  let data: string;
  let models: { classifier: string; segmenter: string };
  let inference: WorkerInference;
  let server: RunningServer;
  let web: string;
  const servers: RunningServer[] = [];

  /** Another server on the shared worker, with its own limits or web root. */
  async function another(options: Parameters<typeof startServer>[0]): Promise<RunningServer> {
    const s = await startServer({ port: 0, inference, webRoot: web, ...options });
    servers.push(s);
    return s;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tumorscope-serve-'));
    data = writeVisibleTumours(join(dir, 'kaggle_3m'));
    models = await trainTinyModels(data, join(dir, 'runs'));
    inference = await WorkerInference.start({ ...models, threads: 1, maxUnpackedBytes: 16 * 1024 * 1024 });
    web = join(dir, 'web', 'dist');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>viewer</title>');
    writeFileSync(join(web, 'assets', 'app-1234.js'), 'console.log("viewer");');
    writeFileSync(join(dir, 'web', 'secret.txt'), 'SECRET outside the web root');
    server = await another({});
  });

  after(async () => {
    for (const s of servers) await s.close();
    await inference?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers health with the queue state', async () => {
    const { status, body } = await getJson(server.url, '/api/health');
    assert.equal(status, 200);
    healthSchema.parse(body);
    assert.deepEqual(body, {
      status: 'ok',
      queue: { running: 0, waiting: 0, limit: DEFAULT_LIMITS.queueLimit },
    });
  });

  it('describes both models', async () => {
    const { status, body } = await getJson(server.url, '/api/models');
    assert.equal(status, 200);
    const config = (base: string) => JSON.parse(readFileSync(`${base}.json`, 'utf8'));
    const c = config(models.classifier);
    const s = config(models.segmenter);
    modelsInfoSchema.parse(body);
    assert.deepEqual(body, {
      classifier: {
        name: 'best',
        architecture: 'densenet121',
        inputSize: { width: 32, height: 32 },
        threshold: c.threshold,
        card: null,
      },
      segmenter: {
        name: 'best',
        architecture: 'resunet',
        inputSize: { width: 48, height: 48 },
        threshold: s.postprocess?.threshold ?? s.threshold,
        postprocess: (body as { segmenter: { postprocess: unknown } }).segmenter.postprocess,
        card: null,
      },
      // No fusion rule saved with these models: the reference gate.
      gate: { detector: 'classifier', sliceRadius: 0, threshold: c.threshold },
    });
  });

  it('predicts on uploaded TIFFs as predictSlices does, with PNG masks at the input size', async () => {
    const files = sliceFiles(data);
    const res = await postFiles(server.url, files);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = predictResponseSchema.parse(res.body);
    assert.match(body.notice, /^Research tool, not a medical device\./);
    assert.deepEqual(body.models, { classifier: 'best', segmenter: 'best' });

    const expected = await predictSlices(runnersOf(loadModels(models)), await sliceInputsFromFiles(files));
    assert.deepEqual(body.gate, expected.gate);
    assert.deepEqual(body.patients, expected.patients);
    assert.equal(body.slices.length, SLICES_PER_PATIENT);
    for (const [k, slice] of body.slices.entries()) {
      const want = expected.slices[k]!;
      assert.equal(slice.name, `${PATIENT}_${k + 1}.tif`);
      assert.equal(slice.slice, k + 1);
      assert.ok(Math.abs(slice.probability - want.probability) < 1e-5, `${slice.name} probability`);
      assert.ok(Math.abs(slice.score - want.score) < 1e-5, `${slice.name} score`);
      assert.equal(slice.tumour, want.tumour);
      assert.equal(slice.areaPixels, want.areaPixels);
      assert.deepEqual(slice.bbox, want.bbox);
      assert.equal(slice.image, undefined);
      if (!want.mask) {
        assert.equal(slice.mask, null);
        continue;
      }
      assert.match(slice.mask!, /^data:image\/png;base64,/);
      const png = Buffer.from(slice.mask!.split(',')[1]!, 'base64');
      const { data: pixels, info } = await sharp(png)
        .extractChannel(0)
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height], [32, 32]);
      assert.deepEqual(
        Uint8Array.from(pixels, (v) => (v ? 1 : 0)),
        want.mask,
        `${slice.name}: mask PNG`,
      );
    }
    // The tiny classifier has learnt the bright squares: most even slices are called tumour.
    const called = body.slices.filter((s) => s.tumour && hasTumour(s.slice)).length;
    assert.ok(called >= 2, `${called} tumour slices called`);
  });

  it('predicts on a 4-D NIfTI upload and answers the mask as NIfTI in the input’s space', async () => {
    // The patient's 32×32 slices stacked as a DICOM-ordered (LPS) volume: its axial slices are the TIFFs.
    const inputs = await sliceInputsFromFiles(sliceFiles(data));
    const size = 32 * 32;
    const values = new Uint8Array(size * inputs.length * 3);
    inputs.forEach((slice, k) => {
      for (let p = 0; p < size; p++)
        for (let c = 0; c < 3; c++) values[(c * inputs.length + k) * size + p] = slice.image.data[p * 3 + c]!;
    });
    const affine = [
      [-0.9, 0, 0, 14],
      [0, -0.9, 0, 14],
      [0, 0, 4, -20],
      [0, 0, 0, 1],
    ] as const;
    const nifti = testNiftiBytes({ shape: [32, 32, inputs.length, 3], type: 'uint8', values, affine });
    const res = await postFiles(server.url, [
      { name: 'patient.nii.gz', bytes: nifti, type: 'application/gzip' },
    ]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = predictResponseSchema.parse(res.body);
    const expected = await predictSlices(runnersOf(loadModels(models)), inputs);
    assert.deepEqual(
      body.slices.map((s) => [s.slice, s.tumour, s.areaPixels]),
      expected.slices.map((s, k) => [k, s.tumour, s.areaPixels]),
    );
    const mask = parseNifti(Buffer.from(body.volume!.mask.split(',')[1]!, 'base64'), 'mask.nii.gz');
    assert.deepEqual(mask.dims, [32, 32, inputs.length]);
    assert.deepEqual(mask.affine, parseNifti(nifti, 'in').affine);
    expected.slices.forEach((s, k) => {
      const voxels = Array.from(mask.data.subarray(k * size, (k + 1) * size));
      assert.deepEqual(voxels, Array.from(s.mask ?? new Uint8Array(size)), `slice ${k}`);
    });
    assert.equal(body.volume!.orientation, 'LPS');
    const mixed = await postFiles(server.url, [
      { name: 'patient.nii.gz', bytes: nifti, type: 'application/gzip' },
      ...sliceFiles(data).slice(0, 1),
    ]);
    assert.equal(mixed.status, 400);
    assert.match(
      (mixed.body as { error: string }).error,
      /^patient\.nii\.gz: a NIfTI volume is one whole patient/,
    );
    const flat = testNiftiBytes({ shape: [4, 4], type: 'uint8', values: new Uint8Array(16) });
    const bad = await postFiles(server.url, [{ name: 'flat.nii.gz', bytes: flat }]);
    assert.equal(bad.status, 400);
    assert.match((bad.body as { error: string }).error, /^flat\.nii\.gz: is a 2-D image/);
  });

  it('adds each slice as a PNG data URI with include=image', async () => {
    const files = sliceFiles(data).slice(0, 2);
    const res = await postFiles(server.url, files, '?include=image');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (const slice of predictResponseSchema.parse(res.body).slices) {
      const png = Buffer.from(slice.image!.replace(/^data:image\/png;base64,/, ''), 'base64');
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 32, 32]);
    }
  });

  it('predicts on a zip of patient folders, skipping masks and non-images', async () => {
    const entries: Record<string, Uint8Array> = {
      'kaggle_3m/data.csv': new TextEncoder().encode('Patient,age\n'),
    };
    for (const patient of [PATIENTS[2]!, PATIENTS[5]!]) {
      for (let n = 1; n <= SLICES_PER_PATIENT; n++) {
        for (const name of [`${patient}_${n}.tif`, `${patient}_${n}_mask.tif`]) {
          entries[`kaggle_3m/${patient}/${name}`] = readFileSync(join(data, patient, name));
        }
      }
    }
    entries['__MACOSX/kaggle_3m/._x.tif'] = new Uint8Array([0, 5, 22, 7]);
    const zip = zipSync(entries);
    const res = await postFiles(server.url, [
      { name: 'two patients.zip', bytes: zip, type: 'application/zip' },
    ]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = predictResponseSchema.parse(res.body);
    assert.deepEqual(
      body.patients.map((p) => [p.patient, p.slices]),
      [
        [PATIENTS[2], SLICES_PER_PATIENT],
        [PATIENTS[5], SLICES_PER_PATIENT],
      ],
    );
    // The same answer as the files uploaded one by one.
    const direct = (await postFiles(server.url, sliceFiles(data))).body as PredictResponse;
    assert.deepEqual(body.patients[0], direct.patients[0]);
    assert.deepEqual(body.slices.slice(0, SLICES_PER_PATIENT), direct.slices);
  });

  it('refuses a zip entry named as an image that is not one, naming the archive and the entry', async () => {
    const zip = zipSync({ 'p/TCGA_CS_0001_20000101_1.tif': new TextEncoder().encode('not really a tiff') });
    const res = await postFiles(server.url, [{ name: 'scan.zip', bytes: zip }]);
    assert.equal(res.status, 415);
    assert.match(
      (res.body as { error: string }).error,
      /^scan\.zip: p\/TCGA_CS_0001_20000101_1\.tif: not an image/,
    );
  });

  it('refuses a zip that would unpack beyond the limit before inflating it', async () => {
    // 20 MB of zeros deflate to about 20 KB; the shared worker's cap is 16 MB.
    const zip = zipSync({ 'p/TCGA_CS_0001_20000101_1.tif': new Uint8Array(20 * 1024 * 1024) });
    assert.ok(zip.length < 100 * 1024);
    const res = await postFiles(server.url, [{ name: 'bomb.zip', bytes: zip }]);
    assert.equal(res.status, 413);
    assert.match((res.body as { error: string }).error, /^bomb\.zip: unpacks to more than 16 MB/);
  });

  it('refuses more slices than one request holds (413), counting zip entries before inflating them', async () => {
    const pixel = encodeTiff({ width: 1, height: 1, channels: 1, samples: new Uint8Array([9]) });
    // Five patients of 205 one-pixel slices: no patient is over its own limit, the request is.
    const names = Array.from(
      { length: DEFAULT_LIMITS.maxSlices + 1 },
      (_, k) => `TCGA_CS_000${k % 5}_20000101_${Math.floor(k / 5) + 1}.tif`,
    );
    const zip = zipSync(Object.fromEntries(names.map((name) => [`many/${name}`, pixel])));
    const zipped = await postFiles(server.url, [{ name: 'many.zip', bytes: zip }]);
    assert.equal(zipped.status, 413);
    assert.match(
      (zipped.body as { error: string }).error,
      /^many\.zip: more than 1024 slices in one request/,
    );
    const loose = await postFiles(
      server.url,
      names.map((name) => ({ name, bytes: pixel })),
    );
    assert.equal(loose.status, 413);
    assert.match(
      (loose.body as { error: string }).error,
      new RegExp(`^${names[names.length - 1]}: more than 1024 slices in one request`),
    );
  });

  it('refuses a patient of more than 256 slices (413) and one of mixed slice sizes (400), naming a file', async () => {
    const pixel = encodeTiff({ width: 1, height: 1, channels: 1, samples: new Uint8Array([9]) });
    const entries = Object.fromEntries(
      Array.from({ length: MAX_SLICES_PER_PATIENT + 1 }, (_, k) => [`p/scan_${k + 1}.tif`, pixel]),
    );
    const tall = await postFiles(server.url, [{ name: 'tall.zip', bytes: zipSync(entries) }]);
    assert.equal(tall.status, 413);
    assert.equal(
      (tall.body as { error: string }).error,
      'tall.zip: scan_1.tif: patient scan has 257 slices, more than the 256 one patient may have',
    );
    const [one, two] = sliceFiles(data);
    const small = encodeTiff({ width: 8, height: 8, channels: 3, samples: new Uint8Array(8 * 8 * 3) });
    const mixed = await postFiles(server.url, [one!, { ...two!, bytes: small }]);
    assert.equal(mixed.status, 400);
    assert.match(
      (mixed.body as { error: string }).error,
      new RegExp(`^${PATIENT}_2\\.tif: 8×8, but patient ${PATIENT}'s other slices are 32×32`),
    );
  });

  it('refuses decompression bombs from their headers with 413, three at once, naming each file', async () => {
    const bombs = [
      { name: 'rgb.tif', bytes: tiffBomb({ width: 8192, height: 8192, channels: 3 }) },
      { name: 'rgb16.tif', bytes: tiffBomb({ width: 8192, height: 8192, channels: 3, bits: 16 }) },
      { name: 'gray.png', bytes: pngBomb(4096, 4096) },
    ];
    const answers = await Promise.all(bombs.map((bomb) => postFiles(server.url, [bomb])));
    for (const [k, res] of answers.entries()) {
      assert.equal(res.status, 413, JSON.stringify(res.body));
      assert.match(
        (res.body as { error: string }).error,
        new RegExp(
          `^${bombs[k]!.name.replace('.', '\\.')}: an image of \\d+×\\d+ is .* more than the 4\\.2 M \\(2048×2048\\)`,
        ),
      );
    }
    assert.equal((await postFiles(server.url, sliceFiles(data).slice(0, 1))).status, 200);
  });

  it('answers 400 naming a slice uploaded twice', async () => {
    const [one] = sliceFiles(data);
    const res = await postFiles(server.url, [one!, one!]);
    assert.equal(res.status, 400);
    assert.match((res.body as { error: string }).error, new RegExp(`^${PATIENT}_1\\.tif: .*given twice`));
  });

  it('answers 400 without files or for a form without its boundary, 415 for a body that is not a form', async () => {
    const empty = new FormData();
    empty.append('comment', 'hello');
    const res = await fetch(`${server.url}/api/predict`, { method: 'POST', body: empty });
    assert.equal(res.status, 400);
    assert.match(
      ((await res.json()) as { error: string }).error,
      /no files: .*'files'.*the form has only 'comment'/,
    );
    const json = await fetch(`${server.url}/api/predict`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(json.status, 415);
    assert.match(
      ((await json.json()) as { error: string }).error,
      /multipart\/form-data \(field 'files'\), not application\/json/,
    );
    const untyped = await raw(server.port, 'POST', '/api/predict', { chunks: [new Uint8Array([1, 2, 3])] });
    assert.equal(untyped.status, 415);
    assert.match(JSON.parse(untyped.body).error, /not a body without Content-Type/);
    const noBoundary = await fetch(`${server.url}/api/predict`, {
      method: 'POST',
      body: 'x',
      headers: { 'content-type': 'multipart/form-data' },
    });
    assert.equal(noBoundary.status, 400);
    assert.match(((await noBoundary.json()) as { error: string }).error, /without a usable boundary/);
  });

  it('answers 415 naming a file that is not an image, a mask, or an image that does not decode', async () => {
    const text = await postFiles(server.url, [
      ...sliceFiles(data).slice(0, 1),
      { name: 'notes.txt', bytes: new TextEncoder().encode('hello'), type: 'text/plain' },
    ]);
    assert.equal(text.status, 415);
    assert.match((text.body as { error: string }).error, /^notes\.txt: not an image \(TIFF, PNG or JPEG\)/);

    const mask = await postFiles(server.url, [
      { name: `${PATIENT}_2_mask.tif`, bytes: readFileSync(join(data, PATIENT, `${PATIENT}_2_mask.tif`)) },
    ]);
    assert.equal(mask.status, 415);
    assert.match(
      (mask.body as { error: string }).error,
      new RegExp(`^${PATIENT}_2_mask\\.tif: a ground-truth mask`),
    );

    const tiff = encodeTiff({ width: 32, height: 32, channels: 3, samples: new Uint8Array(32 * 32 * 3) });
    const truncated = await postFiles(server.url, [{ name: 'cut.tif', bytes: tiff.subarray(0, 40) }]);
    assert.equal(truncated.status, 415);
    assert.match((truncated.body as { error: string }).error, /^cut\.tif: /);
  });

  it('answers 413 above the body limit, by Content-Length and while a chunked body streams in', async () => {
    const small = await another({ limits: { maxBodyBytes: 8 * 1024 } });
    const files = sliceFiles(data); // 8 × ~3 KB
    const res = await postFiles(small.url, files);
    assert.equal(res.status, 413);
    assert.match((res.body as { error: string }).error, /larger than the 8 KB limit/);

    const chunk = new Uint8Array(4096).fill(0x41);
    const chunked = await raw(small.port, 'POST', '/api/predict', {
      headers: { 'content-type': 'multipart/form-data; boundary=x', 'transfer-encoding': 'chunked' },
      chunks: Array.from({ length: 8 }, () => chunk),
    });
    assert.equal(chunked.status, 413);
    assert.match(JSON.parse(chunked.body).error, /larger than the 8 KB limit/);
    // Below the limit, the same server answers.
    assert.equal((await postFiles(small.url, files.slice(0, 1))).status, 200);
  });

  it('answers 503 with Retry-After when the queue is full, and runs the queued jobs after', async () => {
    const { service, release } = held(inference);
    const busy = await another({ inference: service, limits: { queueLimit: 1 } });
    const files = sliceFiles(data).slice(0, 2);
    const first = postFiles(busy.url, files);
    await until(async () => (await queueOf(busy.url)).running === 1, 'the first job to run', first);
    const second = postFiles(busy.url, files);
    await until(async () => (await queueOf(busy.url)).waiting === 1, 'the second job to wait', second);
    const third = await postFiles(busy.url, files);
    assert.equal(third.status, 503);
    assert.equal(third.headers.get('retry-after'), String(DEFAULT_LIMITS.retryAfterSeconds));
    assert.match((third.body as { error: string }).error, /busy/);
    release();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    assert.deepEqual(await queueOf(busy.url), { running: 0, waiting: 0, limit: 1 });
  });

  it('runs as many jobs as the service takes at once, and still answers 503 beyond them and the queue', async () => {
    const { service, release } = held(inference);
    const busy = await another({ inference: { ...service, concurrency: 2 }, limits: { queueLimit: 1 } });
    const files = sliceFiles(data).slice(0, 1);
    const running = [postFiles(busy.url, files), postFiles(busy.url, files)];
    await until(async () => (await queueOf(busy.url)).running === 2, 'two jobs to run', running[0]!);
    const waiting = postFiles(busy.url, files);
    await until(async () => (await queueOf(busy.url)).waiting === 1, 'a job to wait', waiting);
    const refused = await postFiles(busy.url, files);
    assert.equal(refused.status, 503);
    assert.match((refused.body as { error: string }).error, /busy/);
    release();
    for (const res of await Promise.all([...running, waiting])) assert.equal(res.status, 200);
    assert.deepEqual(await queueOf(busy.url), { running: 0, waiting: 0, limit: 1 });
  });

  it('answers requests run together, their network calls batched, as it answers them one by one', async () => {
    const together = await WorkerInference.start({
      ...models,
      threads: 1,
      concurrent: 4,
      batch: 4,
      maxUnpackedBytes: 16 * 1024 * 1024,
    });
    try {
      const shared = await another({ inference: together });
      assert.equal(together.concurrency, 4);
      // Single slices of several patients and one whole patient, sent at once.
      const requests = [
        ...[1, 2, 3, 4, 5, 6].map((k) => sliceFiles(data, PATIENTS[k % 4]!).slice(k, k + 1)),
        sliceFiles(data, PATIENTS[5]!),
      ];
      const alone: PredictResponse[] = [];
      for (const files of requests) {
        const res = await postFiles(server.url, files);
        assert.equal(res.status, 200);
        alone.push(res.body as PredictResponse);
      }
      const answers = await Promise.all(requests.map((files) => postFiles(shared.url, files)));
      for (const [k, res] of answers.entries()) {
        assert.equal(res.status, 200, JSON.stringify(res.body));
        // Another batch may round differently in the last float bits; nothing more.
        assertSameAnswer(predictResponseSchema.parse(res.body), alone[k]!, 1e-5);
      }
      assert.ok(
        alone.some((a) => a.slices.some((s) => s.tumour)),
        'some slice is called tumour',
      );
    } finally {
      await together.close();
    }
  });

  it('predicts on onnxruntime in the worker (serve --backend onnx) as on libtorch', async () => {
    const onnx = await WorkerInference.start({
      ...models,
      threads: 1,
      backend: 'onnx',
      cacheDir: join(dir, 'cache'),
      maxUnpackedBytes: 16 * 1024 * 1024,
    });
    try {
      assert.deepEqual(onnx.backends, ['classifier: onnx', 'segmenter: onnx']);
      const files = sliceFiles(data);
      const want = predictResponseSchema.parse((await postFiles(server.url, files)).body);
      const res = await postFiles((await another({ inference: onnx })).url, files);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assertSameAnswer(predictResponseSchema.parse(res.body), want, 1e-4);
    } finally {
      await onnx.close();
    }
  });

  it('keeps answering health while the worker predicts', async () => {
    // Many 256×256 slices with include=image: long enough a job for health to be asked several times.
    const files: FilePart[] = [];
    for (let n = 1; n <= 48; n++) {
      const samples = new Uint8Array(256 * 256 * 3);
      for (let i = 0; i < samples.length; i++) samples[i] = (i * 31 + n * 7) % 200;
      files.push({
        name: `TCGA_CS_0009_20000101_${n}.tif`,
        bytes: encodeTiff({ width: 256, height: 256, channels: 3, samples }),
      });
    }
    let done = false;
    const sent = performance.now();
    const predicting = postFiles(server.url, files, '?include=image')
      .then((r) => ({ ...r, ms: performance.now() - sent }))
      .finally(() => {
        done = true;
      });
    const duringJob: number[] = [];
    while (!done) {
      const started = performance.now();
      const queue = await queueOf(server.url);
      if (queue.running === 1) duringJob.push(performance.now() - started);
      // No pause between requests: a faster machine speeds up the job and the requests alike.
      await new Promise((r) => setImmediate(r));
    }
    const res = await predicting;
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
    assert.equal((res.body as PredictResponse).slices.length, 48);
    // Answered while the worker ran the job: the event loop stayed free. Latency is reported, not asserted,
    // since a busy machine slows every request alike.
    assert.ok(duringJob.length >= 3, `health answered ${duringJob.length} times while the job ran`);
    duringJob.sort((a, b) => a - b);
    const median = duringJob[Math.floor(duringJob.length / 2)]!;
    console.log(
      `health answered ${duringJob.length} times during a ${(res.ms / 1000).toFixed(1)} s job; median ${median.toFixed(1)} ms`,
    );
  });

  it('restarts a worker that died, failing only the job it was running', async () => {
    await inference.crash();
    const res = await postFiles(server.url, sliceFiles(data).slice(0, 1));
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('serves the viewer with content types, and nothing outside web/dist', async () => {
    const page = await raw(server.port, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.equal(page.body, '<!doctype html><title>viewer</title>');
    const head = await raw(server.port, 'HEAD', '/');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const js = await raw(server.port, 'GET', '/assets/app-1234.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.match(String(js.headers['cache-control']), /immutable/);
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/%2fetc%2fpasswd',
      '/assets/%00.js',
      '/%E0%A4%A',
      `/${join(dir, 'web', 'secret.txt')}`,
    ]) {
      const res = await raw(server.port, 'GET', path);
      assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
      assert.ok(!res.body.includes('SECRET'), `${path} leaked the file`);
    }
    const missing = await raw(server.port, 'GET', '/nothing.js');
    assert.equal(missing.status, 404);
  });

  it('says how to build the viewer when web/dist is missing', async () => {
    const bare = await another({ webRoot: join(dir, 'no-such-dist') });
    const res = await raw(bare.port, 'GET', '/');
    assert.equal(res.status, 503);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /npm run build:web/);
    // The API works without it.
    assert.equal((await getJson(bare.url, '/api/health')).status, 200);
  });
});
