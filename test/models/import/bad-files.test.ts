import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { importPretrained, WeightsFileError } from '../../../src/models/import/index.ts';
import { fixture, smallDenseNet, snapshot, writeTemp } from './helpers.ts';

/** Asserts that importing `file` fails with a WeightsFileError naming the file and matching every pattern. */
function assertRefused(file: string, patterns: RegExp[], overrides = {}, options = {}): void {
  const net = smallDenseNet(overrides);
  const before = snapshot(net);
  assert.throws(
    () => importPretrained(file, net, options),
    (err: unknown) => {
      assert.ok(err instanceof WeightsFileError, `expected a WeightsFileError, got ${String(err)}`);
      assert.equal(err.file, file);
      assert.ok(err.message.startsWith(`${file}: `), err.message);
      for (const p of patterns) assert.match(err.message, p);
      return true;
    },
  );
  assert.deepEqual(snapshot(net), before, 'a refused file must leave the model unchanged');
}

function truncatedCopy(name: string, fraction: number): string {
  const bytes = readFileSync(fixture(name));
  return writeTemp(`truncated-${name}`, bytes.subarray(0, Math.floor(bytes.length * fraction)));
}

describe('importPretrained refuses bad files with a clear error naming the file', () => {
  it('a truncated zip checkpoint', () => {
    assertRefused(truncatedCopy('densenet-small.pth', 0.6), [/end-of-central-directory/, /truncated/]);
  });

  it('a zip checkpoint whose storage bytes are corrupt', () => {
    const bytes = Buffer.from(readFileSync(fixture('densenet-small.pth')));
    // Flip a byte in the middle of the first storage (entries are stored uncompressed).
    const at = bytes.indexOf('densenet-small/data/0') + 200;
    bytes[at] = bytes[at]! ^ 0xff;
    assertRefused(writeTemp('corrupt.pth', bytes), [/CRC-32/]);
  });

  it('a truncated legacy checkpoint', () => {
    assertRefused(truncatedCopy('densenet-small-legacy.pth', 0.9), [/truncated/]);
    assertRefused(truncatedCopy('densenet-small-legacy.pth', 0.05), [/truncated/]);
  });

  it('a truncated Keras file', () => {
    assertRefused(truncatedCopy('densenet-small-keras.h5', 0.5), [/HDF5|truncated/]);
  });

  it('a pickle that calls a global off the allow-list (posix.system)', () => {
    assertRefused(fixture('evil-global.pth'), [/posix\.system/, /allow-list/, /refusing/]);
  });

  it('a shape mismatch, naming the key and both shapes', () => {
    assertRefused(
      fixture('densenet-small.pth'),
      [/features\.conv0\.weight/, /\[8, 3, 7, 7\]/, /\[10, 3, 7, 7\]/, /shape mismatch/],
      { numInitFeatures: 10 },
    );
    assertRefused(
      fixture('densenet-small-keras-notop.h5'),
      [/features\.conv0\.weight/, /Keras 'conv1\/conv\/kernel:0' \[7, 7, 3, 8\]/, /\[10, 3, 7, 7\]/],
      { numInitFeatures: 10 },
    );
  });

  it('a missing backbone tensor, named as the model knows it', () => {
    assertRefused(fixture('densenet-small-missing-key.pth'), [
      /missing 1 tensor/,
      /features\.denseblock2\.denselayer1\.conv2\.weight/,
    ]);
  });

  it('a deeper model than the file: every missing key listed', () => {
    assertRefused(
      fixture('densenet-small-legacy.pth'),
      [/features\.denseblock1\.denselayer2\.norm1\.weight/],
      {
        blockConfig: [2, 2, 1, 1],
      },
    );
  });

  it('loadHead with a file that has no classifier', () => {
    assertRefused(
      fixture('densenet-small-keras-notop.h5'),
      [/classifier\.weight/, /classifier\.bias/],
      { numClasses: 1000 },
      { loadHead: true },
    );
  });

  it('a file that is neither format, an empty file and a missing file', () => {
    assertRefused(writeTemp('notes.pth', 'these are not weights\n'), [/not a weights file/, /7468657365/]);
    assertRefused(writeTemp('empty.h5', ''), [/not a weights file/, /empty/]);
    assertRefused(writeTemp('image.h5', Buffer.from('89504e470d0a1a0a0000', 'hex')), [/not a weights file/]);
    assertRefused('/nonexistent/densenet121.pth', [/cannot read/]);
  });

  it('a zip that is not a torch.save checkpoint', () => {
    // An empty zip archive: only the end-of-central-directory record.
    const empty = Buffer.alloc(22);
    empty.writeUInt32LE(0x06054b50, 0);
    assertRefused(writeTemp('empty.zip', empty), [/without data\.pkl/]);
  });
});
