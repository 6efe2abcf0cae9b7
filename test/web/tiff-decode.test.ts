// The viewer's in-browser TIFF decoder against the server's (src/data/tiff.ts) on the same hand-built files:
// every uncompressed layout gives the same pixels; a compressed file is refused with a pointer to the server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTiff as serverDecode } from '../../src/data/tiff.ts';
import { decodeTiff, isTiff } from '../../web/src/tiff-decode.ts';
import { encodeTiff, pattern, type TiffSpec } from '../data/fixtures.ts';

const W = 13;
const H = 7;

const cases: [string, TiffSpec][] = [
  ['8-bit RGB', { width: W, height: H, channels: 3, samples: pattern(W * H * 3) }],
  ['8-bit gray', { width: W, height: H, channels: 1, samples: pattern(W * H) }],
  [
    '8-bit RGB in strips, the last padded (the LGG layout)',
    { width: W, height: H, channels: 3, samples: pattern(W * H * 3, 2), rowsPerStrip: 3, padLastStrip: true },
  ],
  ['RGBA (alpha dropped)', { width: W, height: H, channels: 4, samples: pattern(W * H * 4, 3) }],
  ['gray + alpha', { width: W, height: H, channels: 2, samples: pattern(W * H * 2, 4) }],
  ['WhiteIsZero', { width: W, height: H, channels: 1, samples: pattern(W * H, 5), photometric: 0 }],
  [
    '16-bit gray',
    {
      width: W,
      height: H,
      channels: 1,
      bits: 16,
      samples: Uint16Array.from(pattern(W * H, 6), (v) => v * 97),
    },
  ],
  [
    '16-bit gray, big-endian',
    {
      width: W,
      height: H,
      channels: 1,
      bits: 16,
      bigEndian: true,
      samples: Uint16Array.from(pattern(W * H, 7), (v) => v * 131),
    },
  ],
  ['1-bit', { width: W, height: H, channels: 1, bits: 1, samples: pattern(Math.ceil(W / 8) * H, 8) }],
  [
    'a slice with a thumbnail after it',
    { width: W, height: H, channels: 3, samples: pattern(W * H * 3, 9), moreImages: [1] },
  ],
];

describe('in-browser TIFF decoding', () => {
  for (const [name, spec] of cases) {
    it(`decodes ${name} as the server does`, () => {
      const bytes = encodeTiff(spec);
      assert.ok(isTiff(bytes));
      const want = serverDecode(bytes, 'x.tif');
      const got = decodeTiff(bytes, 'x.tif');
      assert.equal(got.width, want.width);
      assert.equal(got.height, want.height);
      assert.equal(got.channels, want.channels);
      assert.deepEqual([...got.data], [...want.data]);
    });
  }

  it('refuses a compressed TIFF, naming the file and the way out', () => {
    const bytes = encodeTiff({
      width: W,
      height: H,
      channels: 1,
      samples: pattern(W * H),
      compression: 'deflate',
    });
    assert.throws(() => decodeTiff(bytes, 'slice_3.tif'), /slice_3\.tif: compressed TIFF.*on the server/);
  });

  it('refuses a TIFF of several images as the server does, rather than show the first alone', () => {
    const bytes = encodeTiff({
      width: W,
      height: H,
      channels: 1,
      samples: pattern(W * H),
      moreImages: [0, 0],
    });
    assert.throws(
      () => decodeTiff(bytes, 'stack.tif'),
      /^Error: stack\.tif: holds 3 images; a slice file must hold one/,
    );
    assert.throws(() => serverDecode(bytes, 'stack.tif'), /stack\.tif: holds 3 images/);
  });

  it('refuses a truncated file', () => {
    const bytes = encodeTiff({ width: W, height: H, channels: 3, samples: pattern(W * H * 3) });
    // The directory follows the pixels, so a cut file has lost it.
    assert.throws(() => decodeTiff(bytes.subarray(0, 20), 'cut.tif'), /cut\.tif: truncated or corrupt/);
  });
});
