// Fuzzing the readers of untrusted bytes: TIFF, PNG and JPEG decoding, zip unpacking and multipart parsing, on
// random mutations of real small files (a slice of examples/, files the tests make). Fixed seeds and a bounded
// count: a few hundred inputs in a few seconds. Every input must decode or fail with the project's own error
// types (DataError and its kinds, HttpError) naming the input; nothing may crash, hang or throw anything else.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { DataError } from '../../src/data/errors.ts';
import { MAX_SLICE_PIXELS } from '../../src/data/image.ts';
import { mulberry32, type Rng } from '../../src/data/random.ts';
import { decodeImageBytes } from '../../src/data/read-image.ts';
import { HttpError } from '../../src/server/http-error.ts';
import { boundaryOf, parseMultipart } from '../../src/server/multipart.ts';
import { readUploads } from '../../src/server/uploads.ts';
import { zipSlices } from '../../src/server/zip-entries.ts';
import { encodeTiff, pattern, repoRoot } from '../data/fixtures.ts';
import { HANG_MS } from '../helpers/child-process.ts';

const EXAMPLES = join(repoRoot, 'examples', 'TCGA_DU_8167_19970402');

/** A copy of `bytes` changed by one to four random edits: bytes set, cut short, a run zeroed or set to 0xff, a slice repeated. */
function mutate(bytes: Uint8Array, rng: Rng): Uint8Array {
  let out = Uint8Array.from(bytes);
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits && out.length > 0; e++) {
    const at = rng.int(out.length);
    switch (rng.int(5)) {
      case 0:
        for (let k = 0; k < 1 + rng.int(8); k++) out[rng.int(out.length)] = rng.int(256);
        break;
      case 1:
        out = out.subarray(0, at);
        break;
      case 2:
        out.fill(rng.chance(0.5) ? 0 : 0xff, at, at + 1 + rng.int(16));
        break;
      case 3: {
        // A 16- or 32-bit field set to an extreme value: sizes, counts and offsets in headers.
        const view = new DataView(out.buffer, out.byteOffset, out.length);
        if (at + 4 <= out.length)
          view.setUint32(at, [0xffffffff, 0x7fffffff, 0x10000, 0][rng.int(4)]!, rng.chance(0.5));
        break;
      }
      default: {
        const end = Math.min(out.length, at + 1 + rng.int(64));
        const repeated = new Uint8Array(out.length + (end - at));
        repeated.set(out.subarray(0, end));
        repeated.set(out.subarray(at), end);
        out = repeated;
      }
    }
  }
  return out;
}

/**
 * TIFF-aware edits on top of `mutate`'s blind ones: a directory entry's value set to an extreme (sizes, counts,
 * offsets), or the next-directory link pointed back into the file (at the first directory itself, a loop).
 */
function mutateTiff(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = mutate(bytes, rng);
  if (out.length < 8 || !rng.chance(0.5)) return out;
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  const le = out[0] === 0x49;
  const ifd = view.getUint32(4, le);
  if (ifd + 2 > out.length) return out;
  const entries = view.getUint16(ifd, le);
  const next = ifd + 2 + entries * 12;
  if (rng.chance(0.5) && next + 4 <= out.length)
    view.setUint32(next, rng.chance(0.5) ? ifd : rng.int(out.length), le);
  else if (entries > 0) {
    const value = ifd + 2 + rng.int(entries) * 12 + 8;
    if (value + 4 <= out.length) view.setUint32(value, [0xffffffff, 65536, 16385, 1, 0][rng.int(5)]!, le);
  }
  return out;
}

/** Runs `read` on `count` mutations of each seed; every outcome is a result `check` accepts or an allowed error. */
async function fuzz<T>(
  seeds: readonly Uint8Array[],
  count: number,
  seed: number,
  read: (bytes: Uint8Array, name: string) => Promise<T> | T,
  check: (result: T, name: string) => void,
  allowed: (err: unknown, name: string) => boolean,
  edit: (bytes: Uint8Array, rng: Rng) => Uint8Array = mutate,
): Promise<{ ok: number; refused: number }> {
  const rng = mulberry32(seed);
  let ok = 0;
  let refused = 0;
  for (let trial = 0; trial < count; trial++) {
    const name = `fuzz-${seed}-${trial}`;
    const bytes = edit(seeds[trial % seeds.length]!, rng);
    let result: T;
    try {
      result = await read(bytes, name);
    } catch (err) {
      assert.ok(allowed(err, name), `${name}: ${(err as Error)?.stack ?? err}`);
      refused++;
      continue;
    }
    check(result, name);
    ok++;
  }
  return { ok, refused };
}

/** A DataError (any kind) whose message starts with the input's name. */
const dataError = (err: unknown, name: string) => err instanceof DataError && err.message.startsWith(name);

function checkImage(image: Awaited<ReturnType<typeof decodeImageBytes>>): void {
  assert.ok(image.width * image.height <= MAX_SLICE_PIXELS);
  assert.equal(image.data.length, image.width * image.height * image.channels);
}

describe('fuzzing the readers of uploaded and scanned files', { timeout: HANG_MS }, () => {
  it('TIFF: real slices and every kind the reader takes, mutated', async () => {
    const real = readdirSync(EXAMPLES)
      .slice(0, 2)
      .map((f) => new Uint8Array(readFileSync(join(EXAMPLES, f))));
    const lzw = await sharp(pattern(24 * 20 * 3), { raw: { width: 24, height: 20, channels: 3 } })
      .tiff({ compression: 'lzw', predictor: 'horizontal' })
      .toBuffer();
    const seeds = [
      ...real,
      new Uint8Array(lzw),
      encodeTiff({
        width: 12,
        height: 9,
        channels: 1,
        samples: pattern(108),
        compression: 'deflate',
        rowsPerStrip: 3,
      }),
      encodeTiff({
        width: 5,
        height: 4,
        channels: 3,
        bits: 16,
        samples: Uint16Array.from(pattern(60)),
        bigEndian: true,
      }),
      encodeTiff({ width: 16, height: 3, channels: 1, bits: 1, samples: pattern(6) }),
      encodeTiff({
        width: 7,
        height: 7,
        channels: 4,
        samples: pattern(196),
        rowsPerStrip: 2,
        padLastStrip: true,
      }),
    ];
    const { ok, refused } = await fuzz(seeds, 280, 1, decodeImageBytes, checkImage, dataError, mutateTiff);
    assert.ok(refused > 50 && ok > 20, `${ok} decoded, ${refused} refused`);
  });

  it('PNG and JPEG, mutated', async () => {
    const rgb = pattern(20 * 16 * 3);
    const seeds = [
      new Uint8Array(
        await sharp(rgb, { raw: { width: 20, height: 16, channels: 3 } })
          .png()
          .toBuffer(),
      ),
      new Uint8Array(
        await sharp(Buffer.from(Uint16Array.from(pattern(64)).buffer), {
          raw: { width: 8, height: 8, channels: 1 },
        })
          .toColourspace('grey16')
          .png()
          .toBuffer(),
      ),
      new Uint8Array(
        await sharp(rgb, { raw: { width: 20, height: 16, channels: 3 } })
          .jpeg()
          .toBuffer(),
      ),
    ];
    const { ok, refused } = await fuzz(seeds, 150, 2, decodeImageBytes, checkImage, dataError);
    assert.ok(refused > 30 && ok > 10, `${ok} decoded, ${refused} refused`);
  });

  it('zip uploads, mutated: unpacked within the limits, or 413/415 naming the archive', async () => {
    const slice = encodeTiff({ width: 8, height: 8, channels: 1, samples: pattern(64) });
    const seeds = [
      zipSync({
        'kaggle_3m/data.csv': new TextEncoder().encode('Patient,age\n'),
        'kaggle_3m/P/P_1.tif': slice,
        'kaggle_3m/P/P_1_mask.tif': slice,
        'kaggle_3m/P/P_2.tif': slice,
      }),
      zipSync({ 'a.tif': slice, 'b/c.tif': slice }, { level: 0 }),
    ];
    const limits = { maxUnpackedBytes: 1 << 20, maxSlices: 8, requestSlices: 8 };
    const { ok, refused } = await fuzz(
      seeds,
      200,
      3,
      async (bytes, name) => {
        const files = zipSlices(name, bytes, limits);
        // What a zip yields is decoded next: that too must end in a result or a DataError.
        for (const file of files)
          await decodeImageBytes(file.bytes, file.name).catch((err) => {
            if (!(err instanceof DataError)) throw err;
          });
        return files;
      },
      (files) => {
        assert.ok(files.length >= 1 && files.length <= limits.maxSlices);
        assert.ok(files.reduce((n, f) => n + f.bytes.length, 0) <= limits.maxUnpackedBytes);
      },
      (err, name) =>
        err instanceof HttpError &&
        (err.status === 413 || err.status === 415) &&
        err.message.startsWith(name),
    );
    assert.ok(refused > 30 && ok > 30, `${ok} unpacked, ${refused} refused`);
  });

  it('multipart bodies, mutated: parsed into uploads, or 400/415', async () => {
    const boundary = '----tumorscope-fuzz';
    const form = new FormData();
    const slice = encodeTiff({ width: 8, height: 8, channels: 1, samples: pattern(64) });
    form.append('files', new Blob([slice as Uint8Array<ArrayBuffer>]), 'P_1.tif');
    form.append('files', new Blob([zipSync({ 'P_2.tif': slice }) as Uint8Array<ArrayBuffer>]), 'p.zip');
    form.append('comment', 'two files');
    const encoded = new Response(form);
    const type = encoded.headers.get('content-type')!;
    const body = new Uint8Array(await encoded.arrayBuffer());
    // The same parts under a boundary of our own, so that mutations can hit it.
    const seeds = [
      new TextEncoder().encode(
        new TextDecoder('latin1').decode(body).replaceAll(boundaryOf(type)!, boundary),
      ),
    ];
    const { ok, refused } = await fuzz(
      seeds,
      200,
      4,
      (bytes) => readUploads(parseMultipart(bytes, boundary)),
      (uploads) => {
        // Printable last path segments only (uploads.ts's displayName).
        for (const u of uploads) {
          assert.ok(u.name.length > 0 && !/[\\/]/.test(u.name));
          assert.ok(
            [...u.name].every((ch) => ch.charCodeAt(0) >= 0x20 && ch !== '\u007f'),
            u.name,
          );
        }
      },
      (err) => err instanceof HttpError && (err.status === 400 || err.status === 415),
    );
    assert.ok(refused > 30 && ok > 10, `${ok} parsed, ${refused} refused`);
  });
});
