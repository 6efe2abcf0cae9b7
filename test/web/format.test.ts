// How numbers and the notice read on the page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPixels, formatProbability, formatSliceRange, noticeDetail } from '../../web/src/format.ts';

describe('format', () => {
  it('writes probabilities as percentages, with a decimal near 0 and 1', () => {
    assert.equal(formatProbability(0.487), '49%');
    assert.equal(formatProbability(0.999), '99.9%');
    assert.equal(formatProbability(0.001), '0.1%');
  });

  it('counts pixels and voxels', () => {
    assert.equal(formatPixels(1, 'pixel'), '1 pixel');
    assert.equal(formatPixels(12345, 'voxel'), '12,345 voxels');
  });

  it('names the range of tumour slices', () => {
    assert.equal(formatSliceRange(null, null), '—');
    assert.equal(formatSliceRange(4, 4), 'slice 4');
    assert.equal(formatSliceRange(4, 9), 'slices 4–9');
  });

  it("keeps the server notice's detail without repeating the banner's first sentence", () => {
    const notice = 'Research tool, not a medical device. These results must not be used to diagnose.';
    assert.equal(noticeDetail(notice), 'These results must not be used to diagnose.');
    assert.equal(noticeDetail('Something else.'), 'Something else.');
  });
});
