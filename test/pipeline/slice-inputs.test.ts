// Decoding a prediction's slices: a few at a time, within a budget of decoded pixels, stopping at the first
// problem. Fake decoders stand in for files, so what is checked is the order, the bound and the budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataError, TooManyPixelsError } from '../../src/data/errors.ts';
import type { DecodedImage } from '../../src/data/image.ts';
import { decodeWithinBudget, sliceInputsFromFiles } from '../../src/pipeline/slice-inputs.ts';
import { encodeTiff } from '../data/fixtures.ts';

const image = (side: number): DecodedImage => ({
  width: side,
  height: side,
  channels: 1,
  data: new Uint8Array(side * side),
  sourceBits: 8,
});

describe('decodeWithinBudget', () => {
  it('decodes at most two at a time, keeps the order, and starts nothing after a failure', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const decode = async (k: number) => {
      started.push(k);
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      if (k === 5) throw new DataError('unreadable-image', `f${k}`, 'corrupt');
      return image(k + 1);
    };
    const items = Array.from({ length: 12 }, (_, k) => k);
    const ok = await decodeWithinBudget(items.slice(0, 5), String, decode, { maxPixels: 1e6, slices: 'x' });
    assert.deepEqual(
      ok.map((i) => i.width),
      [1, 2, 3, 4, 5],
    );
    assert.equal(most, 2);
    started.length = 0;
    await assert.rejects(
      decodeWithinBudget(items, String, decode, { maxPixels: 1e6, slices: 'x' }),
      /f5: corrupt/,
    );
    assert.ok(Math.max(...started) <= 6, `started ${started.join(',')} after the failure at 5`);
  });

  it('stops with a TooManyPixelsError naming the file at which the decoded pixels pass the budget', async () => {
    const tiff = (side: number) =>
      encodeTiff({ width: side, height: side, channels: 1, samples: new Uint8Array(side * side) });
    const files = [10, 10, 10, 10].map((side, k) => ({ name: `p/p_${k + 1}.tif`, bytes: tiff(side) }));
    assert.equal((await sliceInputsFromFiles(files, {}, 400)).length, 4);
    await assert.rejects(
      sliceInputsFromFiles(files, {}, 350),
      (err: Error) =>
        err instanceof TooManyPixelsError &&
        err.message ===
          'p/p_4.tif: the slices sent together decode to more than 350 pixels, the most one prediction holds at once; send fewer',
    );
  });
});
