// The in-browser pipeline (web/src/local-pipeline.ts: the page's naming around the shared two-stage core) with
// stand-in networks: naming as the server names slices, the classifier on every slice, the segmenter only on the
// slices it calls (gating), flip TTA undone before averaging, post-processing per volume, masks back at each
// slice's size. That it equals predict and the server with the real networks is test/inference/one-core.test.ts;
// onnxruntime-web against the server is test/web/viewer.test.ts (Chromium).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { zipSync } from 'fflate';
import type { DecodedImage } from '../../src/data/image.ts';
import type { PreprocessConfig } from '../../src/data/preprocess.ts';
import { placeSlices as serverPlaceSlices } from '../../src/data/slice-names.ts';
import type { SegmenterRunner } from '../../src/inference/two-stage.ts';
import { isSlicePath, unzipSlices } from '../../web/src/browser-files.ts';
import { placeSlices, predictLocally } from '../../web/src/local-pipeline.ts';

const rescale = (size: number): PreprocessConfig => ({
  version: 1,
  width: size,
  height: size,
  channels: 3,
  intensity: { kind: 'rescale' },
});

/** A gray W×H slice of one value, with a bright (255) square at (x, y) of side `side` when given. */
function slice(
  width: number,
  height: number,
  value: number,
  square?: [number, number, number],
): DecodedImage {
  const data = new Uint8Array(width * height).fill(value);
  if (square) {
    const [x0, y0, side] = square;
    for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) data[y * width + x] = 255;
  }
  return { width, height, channels: 1, data, sourceBits: 8 };
}

describe('in-browser pipeline', () => {
  it('names slices as the server does', () => {
    const names = [
      'TCGA_CS_4941_19960909_12.tif',
      'TCGA_CS_4941_19960909_3.tif',
      'scan.png',
      'other.jpg',
      'P2/a.tif',
      'P2/b.tif',
      'folder/TCGA_X_7.TIFF',
    ];
    assert.deepEqual(placeSlices(names), serverPlaceSlices(names));
    assert.throws(() => placeSlices(['P_3_mask.tif']), /P_3_mask\.tif: a ground-truth mask/);
  });

  it('gates, segments, post-processes per volume and resizes back', async () => {
    const size = 8;
    // The classifier reads P(tumour) off the slice's brightest input pixel.
    const seen = { classifier: 0, segmenter: [] as number[] };
    const classifier = {
      preprocess: rescale(size),
      threshold: 0.9,
      run: async (input: Float32Array, n: number) => {
        seen.classifier += n;
        return Float32Array.from({ length: n }, (_, k) =>
          Math.max(...input.subarray(k * 3 * size * size, (k + 1) * 3 * size * size)),
        );
      },
    };
    // The segmenter: bright pixels are tumour; plus, on every pass, a two-pixel speck in the top-left corner of
    // its output. Flipped back, the speck lands in another corner each pass, so flip TTA leaves 1/4 (under the
    // threshold) in each corner; without TTA it would stay (two pixels survive minComponentArea 2).
    const segmenter: SegmenterRunner = {
      preprocess: rescale(size),
      postprocess: { threshold: 0.5, minComponentArea: 2, largest3DComponent: false, tta: 'flips' },
      run: async (input: Float32Array, n: number) => {
        seen.segmenter.push(n);
        const out = new Float32Array(n * size * size);
        for (let k = 0; k < n; k++) {
          for (let i = 0; i < size * size; i++)
            out[k * size * size + i] = input[k * 3 * size * size + i]! > 0.99 ? 1 : 0;
          out[k * size * size] = 1;
          out[k * size * size + 1] = 1;
        }
        return out;
      },
    };
    const slices = [
      // Patient P: slice 2 has a 4×4 square at 16×16 (resized to 8×8: 2×2), slice 1 none, slice 3 a 2×2 square
      // that becomes a lone pixel at 8×8, which minComponentArea removes.
      { name: 'P_2.tif', image: slice(16, 16, 20, [4, 4, 4]) },
      { name: 'P_1.tif', image: slice(16, 16, 20) },
      { name: 'P_3.tif', image: slice(16, 16, 20, [10, 10, 2]) },
      { name: 'A_1.tif', image: slice(8, 8, 20) },
    ];
    const result = await predictLocally(slices, { classifier, segmenter }, { batch: 2 });
    assert.deepEqual(
      result.slices.map((s) => [s.name, s.patient, s.slice, s.tumour, s.classifierCall]),
      [
        ['A_1.tif', 'A', 1, false, false],
        ['P_1.tif', 'P', 1, false, false],
        ['P_2.tif', 'P', 2, true, true],
        // Called by the classifier, but post-processing empties its mask: the final output says no tumour.
        ['P_3.tif', 'P', 3, false, true],
      ],
    );
    assert.equal(seen.classifier, 4);
    // Two called slices, one batch, four flips.
    assert.deepEqual(seen.segmenter, [2, 2, 2, 2]);
    const [a, p1, p2, p3] = result.slices;
    assert.equal(a!.mask, null);
    assert.equal(p1!.mask, null);
    // Back at 16×16: the 2×2 model-size square becomes 4×4 at (4, 4); the corner specks are gone (TTA).
    assert.equal(p2!.mask!.length, 256);
    assert.equal(p2!.areaPixels, 16);
    assert.deepEqual(p2!.bbox, { x: 4, y: 4, width: 4, height: 4 });
    assert.equal(p2!.mask![0], 0);
    assert.equal(p2!.mask![255], 0);
    assert.equal(p3!.areaPixels, 0, 'a one-pixel component is removed');
    assert.equal(p3!.mask, null, 'no mask for a slice whose final output is empty');
    assert.deepEqual(result.patients, [
      {
        patient: 'A',
        slices: 1,
        positiveSlices: 0,
        classifierCalledSlices: 0,
        firstPositiveSlice: null,
        lastPositiveSlice: null,
        volumeVoxels: 0,
        volumeSteps: [],
      },
      {
        patient: 'P',
        slices: 3,
        positiveSlices: 1,
        classifierCalledSlices: 2,
        firstPositiveSlice: 2,
        lastPositiveSlice: 2,
        volumeVoxels: 16,
        volumeSteps: [],
      },
    ]);
  });

  it('refuses a slice given twice, and a patient of mixed slice sizes, as the server does', async () => {
    const image = slice(8, 8, 0);
    const model = { preprocess: rescale(8), run: async () => new Float32Array(0) };
    await assert.rejects(
      predictLocally(
        [
          { name: 'P_1.tif', image },
          { name: 'copy/P_1.tif', image },
        ],
        {
          classifier: { ...model, threshold: 0.5 },
          segmenter: {
            ...model,
            postprocess: { threshold: 0.5, minComponentArea: 0, largest3DComponent: false, tta: 'none' },
          },
        },
      ),
      /P_1\.tif: patient P slice 1 is given twice/,
    );
    await assert.rejects(
      predictLocally(
        [
          { name: 'P_1.tif', image },
          { name: 'P_2.tif', image: slice(16, 16, 0) },
        ],
        {
          classifier: { ...model, threshold: 0.5 },
          segmenter: {
            ...model,
            postprocess: { threshold: 0.5, minComponentArea: 0, largest3DComponent: false, tta: 'none' },
          },
        },
      ),
      { name: 'MixedSliceSizesError' },
    );
  });

  it('unpacks the slices of a zip as the server does', () => {
    const tiff = new Uint8Array([0x49, 0x49, 42, 0]);
    const zip = zipSync({
      'P/P_1.tif': tiff,
      'P/P_1_mask.tif': tiff,
      'P/data.csv': new Uint8Array([1]),
      '__MACOSX/P/._P_1.tif': tiff,
      'P/.hidden.tif': tiff,
    });
    assert.deepEqual(
      unzipSlices('p.zip', zip).map((f) => f.name),
      ['P/P_1.tif'],
    );
    assert.equal(isSlicePath('P/'), false);
    assert.throws(() => unzipSlices('empty.zip', zipSync({ 'a.txt': tiff })), /empty\.zip: no slice images/);
    assert.throws(() => unzipSlices('bad.zip', new Uint8Array([1, 2, 3])), /bad\.zip: not a readable \.zip/);
  });
});
