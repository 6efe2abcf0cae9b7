// Mask → the pixels drawn over the MRI.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countPixels, maskFromRgba, outlineOf, overlayPixels } from '../../web/src/mask-overlay.ts';

/** A mask from rows of '#' (tumour) and '.'. */
function maskOf(rows: string[]): { mask: Uint8Array; width: number; height: number } {
  const width = rows[0]!.length;
  const mask = Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0));
  return { mask, width, height: rows.length };
}

const rowsOf = (mask: Uint8Array, width: number) =>
  Array.from({ length: mask.length / width }, (_, y) =>
    Array.from(mask.subarray(y * width, (y + 1) * width), (v) => (v ? '#' : '.')).join(''),
  );

describe('outlineOf', () => {
  it('keeps the border of a filled square and empties its inside', () => {
    const { mask, width, height } = maskOf(['.....', '.###.', '.###.', '.###.', '.....']);
    assert.deepEqual(rowsOf(outlineOf(mask, width, height), width), [
      '.....',
      '.###.',
      '.#.#.',
      '.###.',
      '.....',
    ]);
  });

  it('closes a tumour at the image edge', () => {
    const { mask, width, height } = maskOf(['###', '###', '###']);
    assert.deepEqual(rowsOf(outlineOf(mask, width, height), width), ['###', '#.#', '###']);
  });

  it('keeps thin structures whole and leaves an empty mask empty', () => {
    const line = maskOf(['.....', '#####', '.....']);
    assert.deepEqual(outlineOf(line.mask, line.width, line.height), line.mask);
    assert.equal(countPixels(outlineOf(new Uint8Array(9), 3, 3)), 0);
  });
});

describe('overlayPixels', () => {
  const { mask, width, height } = maskOf(['....', '.##.', '.##.', '....']);

  it('fills tumour pixels opaque in the colour, the rest transparent', () => {
    const rgba = overlayPixels(mask, width, height, 'fill', [255, 64, 32]);
    assert.deepEqual([...rgba.subarray(5 * 4, 6 * 4)], [255, 64, 32, 255]);
    assert.deepEqual([...rgba.subarray(0, 4)], [0, 0, 0, 0]);
    const opaque = Array.from({ length: width * height }, (_, i) => rgba[i * 4 + 3]! > 0);
    assert.equal(opaque.filter(Boolean).length, 4);
  });

  it('shows only the outline in outline mode and nothing when off', () => {
    const big = maskOf(['.....', '.###.', '.###.', '.###.', '.....']);
    const outline = overlayPixels(big.mask, 5, 5, 'outline', [1, 2, 3]);
    assert.equal(outline[(2 * 5 + 2) * 4 + 3], 0, 'the centre is not drawn');
    assert.equal(outline[(1 * 5 + 1) * 4 + 3], 255);
    assert.equal(
      overlayPixels(mask, width, height, 'off', [1, 2, 3]).some((v) => v !== 0),
      false,
    );
  });
});

describe('maskFromRgba', () => {
  it('reads a 0/255 gray PNG decoded to RGBA', () => {
    const rgba = Uint8ClampedArray.from([
      0, 0, 0, 255, 255, 255, 255, 255, 127, 127, 127, 255, 128, 128, 128, 255,
    ]);
    assert.deepEqual([...maskFromRgba(rgba, 2, 2)], [0, 1, 0, 1]);
  });
});
