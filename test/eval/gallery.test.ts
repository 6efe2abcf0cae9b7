import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { selectGallerySlices } from '../../src/eval/gallery.ts';
import { galleryItem, PREDICTION_COLOUR, TRUTH_COLOUR } from '../../src/eval/report/gallery-images.ts';
import { isPng } from '../../src/eval/report/html.ts';
import type { SliceRecord } from '../../src/eval/slices.ts';

const slice = (patient: string, n: number, intersection: number, trueLabel: 0 | 1 = 1): SliceRecord => ({
  patient,
  slice: n,
  score: 0.9,
  trueLabel,
  endToEnd: { intersection, trueVoxels: trueLabel ? 10 : 0, predVoxels: 10 },
});

describe('gallery selection', () => {
  const records = [
    slice('A', 1, 9),
    slice('A', 2, 2),
    slice('B', 1, 10),
    slice('B', 2, 0),
    slice('C', 1, 5),
    slice('C', 2, 0, 0),
  ];
  it('takes the best and the worst tumour slices by Dice, never a tumour-free slice', () => {
    const { best, worst } = selectGallerySlices(records, 2);
    assert.deepEqual(
      best.map((r) => `${r.patient}${r.slice}`),
      ['B1', 'A1'],
    );
    assert.deepEqual(
      worst.map((r) => `${r.patient}${r.slice}`),
      ['B2', 'A2'],
    );
  });
  it('never shows a slice twice when there are few', () => {
    const { best, worst } = selectGallerySlices(records.slice(0, 3), 5);
    assert.equal(best.length + worst.length, 3);
    assert.equal(new Set([...best, ...worst]).size, 3);
    assert.deepEqual(selectGallerySlices([], 3), { best: [], worst: [] });
  });
});

describe('gallery images', () => {
  it('encodes the MRI, and the MRI with the truth in green and with the prediction in red, at the slice size', async () => {
    const width = 4;
    const height = 2;
    const mri = {
      data: Uint8Array.from({ length: width * height * 3 }, (_, i) => i * 10),
      width,
      height,
      channels: 3 as const,
    };
    const trueMask = new Uint8Array([0, 255, 255, 0, 0, 0, 0, 0]);
    const predMask = new Uint8Array([0, 1, 0, 0, 0, 0, 0, 1]);
    const record = slice('P', 7, 1);
    const item = await galleryItem('worst', record, mri, trueMask, predMask);
    assert.equal(item.kind, 'worst');
    assert.equal(item.patient, 'P');
    assert.equal(item.dice, 0.1); // 2 * 1 / (10 + 10)
    for (const png of [item.mri, item.trueMask, item.predMask]) assert.ok(isPng(png));
    const rgb = await sharp(item.mri).raw().toBuffer();
    assert.deepEqual([...rgb], [...mri.data]);
    // Every mask pixel of a 4×2 slice is on the mask's edge, so drawn in full colour; the others are the MRI's.
    const drawn = (mask: Uint8Array, colour: number[]) =>
      Array.from({ length: width * height }, (_, p) =>
        mask[p] ? colour : [...mri.data.subarray(p * 3, p * 3 + 3)],
      ).flat();
    for (const [png, mask, colour] of [
      [item.trueMask, trueMask, TRUTH_COLOUR],
      [item.predMask, predMask, PREDICTION_COLOUR],
    ] as const) {
      const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([decoded.info.width, decoded.info.height, decoded.info.channels], [width, height, 3]);
      assert.deepEqual([...decoded.data], drawn(mask, [...colour]));
    }
  });
  it('rejects pixels that do not match the size', async () => {
    const mri = { data: new Uint8Array(5), width: 2, height: 2, channels: 1 as const };
    await assert.rejects(
      galleryItem('best', slice('P', 1, 1), mri, new Uint8Array(4), new Uint8Array(4)),
      RangeError,
    );
  });
});

it('a gallery of 0 slices is empty, not every slice', () => {
  const none = selectGallerySlices(
    [0, 1, 2, 3].map((k) => ({
      patient: 'P',
      slice: k + 1,
      score: 0.9,
      trueLabel: 1 as const,
      endToEnd: { intersection: k, trueVoxels: 4, predVoxels: 4 },
    })),
    0,
  );
  assert.deepEqual(none, { best: [], worst: [] });
});
