import assert from 'node:assert/strict';
import fs, { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  Conv2d,
  decodeSafetensors,
  encodeSafetensors,
  FileWriteError,
  loadSafetensors,
  loadWeightsInto,
  readModelConfig,
  SafetensorsError,
  saveHalfPrecisionCopy,
  saveModel,
  saveSafetensors,
  tensor,
} from '../../src/engine/index.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'tumorscope-st-'));

describe('safetensors', () => {
  it('round-trips dtypes, shapes and metadata, with an 8-byte aligned header', () => {
    const tensors = new Map([
      ['a', tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3])],
      ['b', tensor(new BigInt64Array([7n]), [])],
      ['c', tensor(new Uint8Array([0, 255]), [2])],
      ['d', tensor(new Uint8Array([1, 0, 1]), [3], { dtype: 'bool' })],
    ]);
    const bytes = Buffer.concat(encodeSafetensors(tensors, { note: 'x' }));
    assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0);
    const back = decodeSafetensors(bytes);
    assert.equal(back.metadata['note'], 'x');
    for (const [k, t] of tensors) {
      const u = back.tensors.get(k)!;
      assert.equal(u.dtype, t.dtype, k);
      assert.deepEqual(u.shape, t.shape, k);
      assert.deepEqual(u.data(), t.data(), k);
    }
  });

  it('stores float16 as 2-byte values that read back as the same halves', () => {
    // 1/3 is not a half: the stored value is its nearest half, which is what must come back (to float32 exactly).
    const values = new Float32Array([1 / 3, -2.5, 65504, 6e-8, 0]);
    const half = tensor(values, [5]).to('float16');
    const bytes = Buffer.concat(encodeSafetensors(new Map([['h', half]])));
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
    assert.equal(header.h.dtype, 'F16');
    assert.deepEqual(header.h.data_offsets, [0, 10]);
    // The IEEE half bit pattern of -2.5 is 0xc100, little-endian.
    assert.deepEqual([...bytes.subarray(8 + headerLength + 2, 8 + headerLength + 4)], [0x00, 0xc1]);
    const back = decodeSafetensors(bytes).tensors.get('h')!;
    assert.equal(back.dtype, 'float16');
    assert.deepEqual(back.data(), half.data());
    assert.notDeepEqual(back.data(), values, 'rounded to halves, not float32 kept');
  });

  it('makes a float16 copy of a float32 file, integers unchanged, that loads into a float32 model', () => {
    const d = dir();
    const conv = new Conv2d(2, 3, 3);
    saveSafetensors(
      join(d, 'w.safetensors'),
      new Map([...conv.stateDict(), ['count', tensor(new BigInt64Array([5n]), [])]]),
    );
    saveHalfPrecisionCopy(join(d, 'w.safetensors'), join(d, 'h.safetensors'));
    const halved = loadSafetensors(join(d, 'h.safetensors')).tensors;
    assert.equal(halved.get('weight')!.dtype, 'float16');
    assert.equal(halved.get('count')!.dtype, 'int64');
    assert.deepEqual(halved.get('count')!.data(), new BigInt64Array([5n]));
    const back = new Conv2d(2, 3, 3);
    back.loadStateDict(new Map([...halved].filter(([k]) => k !== 'count')));
    const a = conv.weight.data() as Float32Array;
    const b = back.weight.data() as Float32Array;
    assert.equal(back.weight.dtype, 'float32');
    for (let i = 0; i < a.length; i++)
      assert.ok(Math.abs(a[i]! - b[i]!) <= Math.abs(a[i]!) * 2 ** -11 + 1e-7, `weight ${i}`);
  });

  it('reads a file written by Python (the parity fixture) with the layout the format specifies', () => {
    const file = join(import.meta.dirname, '..', 'fixtures', 'parity', 'convnet.safetensors');
    const { tensors, metadata } = loadSafetensors(file);
    assert.match(metadata['torch'] ?? '', /^1\.13/);
    assert.deepEqual(tensors.get('param.0.weight')!.shape, [8, 3, 3, 3]);
    assert.equal(tensors.get('param.1.num_batches_tracked')!.dtype, 'int64');
    // Independent parse of the header: offsets must tile the data section exactly.
    const raw = readFileSync(file);
    const n = Number(raw.readBigUInt64LE(0));
    const header = JSON.parse(raw.subarray(8, 8 + n).toString());
    const ends = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([, v]) => (v as { data_offsets: number[] }).data_offsets[1]!);
    assert.equal(Math.max(...ends), raw.length - 8 - n);
  });

  it('names the file and the problem for damaged input', () => {
    const d = dir();
    const good = join(d, 'good.safetensors');
    saveSafetensors(good, new Map([['w', tensor([1, 2, 3])]]));
    const bytes = readFileSync(good);
    const truncated = join(d, 'truncated.safetensors');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 4));
    assert.throws(
      () => loadSafetensors(truncated),
      (e: Error) =>
        e instanceof SafetensorsError && e.message.includes(truncated) && /outside the data/.test(e.message),
    );
    const garbage = join(d, 'garbage.safetensors');
    writeFileSync(garbage, Buffer.from('hello world, not a tensor file'));
    assert.throws(() => loadSafetensors(garbage), /garbage.safetensors: header length/);
    assert.throws(() => loadSafetensors(join(d, 'missing.safetensors')), /missing.safetensors: cannot read/);
  });

  it('writes atomically: no temporary files left, an existing file replaced whole', () => {
    const d = dir();
    const path = join(d, 'w.safetensors');
    saveSafetensors(path, new Map([['w', tensor([1])]]));
    saveSafetensors(path, new Map([['w', tensor([2, 3])]]));
    assert.deepEqual(readdirSync(d), ['w.safetensors']);
    assert.deepEqual([...loadSafetensors(path).tensors.get('w')!.toFloat32()], [2, 3]);
  });

  it('names the file a failed write was for (a full disk), keeping the old file and no temporary one', (t) => {
    const d = dir();
    const path = join(d, 'w.safetensors');
    saveSafetensors(path, new Map([['w', tensor([1])]]));
    t.mock.method(fs, 'writeSync', () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    syncBuiltinESMExports();
    try {
      assert.throws(
        () => saveSafetensors(path, new Map([['w', tensor([2, 3])]])),
        (err: Error) =>
          err instanceof FileWriteError &&
          err.message === `${path}: cannot write it (ENOSPC: no space left on device, write)`,
      );
    } finally {
      t.mock.restoreAll();
      syncBuiltinESMExports();
    }
    assert.deepEqual(readdirSync(d), ['w.safetensors']);
    assert.deepEqual([...loadSafetensors(path).tensors.get('w')!.toFloat32()], [1]);
  });

  it('saves a model as weights + JSON config and loads it back strictly', () => {
    const d = dir();
    const a = new Conv2d(2, 3, 3);
    saveModel(join(d, 'model'), a, { architecture: 'conv', in: 2 });
    assert.deepEqual(readModelConfig(join(d, 'model.json')), { architecture: 'conv', in: 2 });
    const b = new Conv2d(2, 3, 3);
    loadWeightsInto(join(d, 'model'), b);
    assert.deepEqual(b.weight.data(), a.weight.data());
    assert.throws(
      () => loadWeightsInto(join(d, 'model'), new Conv2d(2, 4, 3)),
      /model.safetensors: loadStateDict: shape/,
    );
  });
});
