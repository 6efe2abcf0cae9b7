// Downloads: masks zipped in the browser, file names, the JSON.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import type { PredictResponse, SlicePrediction } from '../../web/src/api-types.ts';
import { bytesOfDataUrl, maskFileName, masksZip, predictionsJson } from '../../web/src/exports.ts';
import { cardRows } from '../../web/src/model-card.ts';

const PNG_HEAD = [0x89, 0x50, 0x4e, 0x47];
const pngUrl = `data:image/png;base64,${Buffer.from([...PNG_HEAD, 1, 2, 3]).toString('base64')}`;

function slice(name: string, mask: string | null): SlicePrediction {
  return {
    name,
    patient: 'P',
    slice: 1,
    width: 4,
    height: 4,
    probability: 0.9,
    score: 0.9,
    tumour: mask !== null,
    classifierCall: true,
    areaPixels: mask ? 3 : 0,
    bbox: null,
    mask,
    image: pngUrl,
  };
}

describe('exports', () => {
  it('decodes base64 data URLs and refuses anything else', () => {
    assert.deepEqual([...bytesOfDataUrl(pngUrl)], [...PNG_HEAD, 1, 2, 3]);
    assert.throws(() => bytesOfDataUrl('https://example.org/x.png'), /data URL/);
    assert.throws(() => bytesOfDataUrl('data:text/plain,hello'), /base64/);
  });

  it('names masks as the dataset does', () => {
    assert.equal(maskFileName('TCGA_CS_4941_19960909_12.tif'), 'TCGA_CS_4941_19960909_12_mask.png');
    assert.equal(maskFileName('folder/P_3.png'), 'P_3_mask.png');
    assert.equal(maskFileName('noext'), 'noext_mask.png');
  });

  it('zips every predicted mask under its patient, skipping slices without one', () => {
    const files = unzipSync(masksZip([slice('P_1.tif', pngUrl), slice('P_2.tif', null)]));
    assert.deepEqual(Object.keys(files), ['P/P_1_mask.png']);
    assert.deepEqual([...files['P/P_1_mask.png']!], [...PNG_HEAD, 1, 2, 3]);
  });

  it('writes the predictions without the slice images but with the masks', () => {
    const response: PredictResponse = {
      notice: 'n',
      models: { classifier: 'c', segmenter: 's' },
      gate: { detector: 'classifier', sliceRadius: 0, threshold: 0.5 },
      patients: [],
      slices: [slice('P_1.tif', pngUrl)],
    };
    const json = JSON.parse(predictionsJson(response));
    assert.equal(json.slices[0].image, undefined);
    assert.equal(json.slices[0].mask, pngUrl);
    assert.equal(json.notice, 'n');
  });

  it('reads a model card generically', () => {
    assert.deepEqual(cardRows(null), []);
    assert.deepEqual(cardRows({ auc: 0.91234, test: { dice: 0.8, notes: ['x'] }, long: 'x'.repeat(80) }), [
      ['auc', '0.912'],
      ['test.dice', '0.800'],
    ]);
  });
});
