// Which opened or dropped files the viewer sends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describePlan, isMaskFileName, planUpload } from '../../web/src/upload-plan.ts';

const named = (...names: string[]) => names.map((name) => ({ name }));

describe('planUpload', () => {
  it('sends slices and skips ground-truth masks and other files', () => {
    const plan = planUpload(
      named('P_1.tif', 'P_1_mask.tif', 'P_2.TIFF', 'P_2_mask.tif', 'notes.txt', 'P_3.png', 'x.jpeg'),
    );
    assert.equal(plan.kind, 'send');
    if (plan.kind !== 'send') return;
    assert.deepEqual(
      plan.files.map((f) => f.name),
      ['P_1.tif', 'P_2.TIFF', 'P_3.png', 'x.jpeg'],
    );
    assert.equal(plan.skippedMasks, 2);
    assert.deepEqual(plan.skippedOther, ['notes.txt']);
    assert.equal(describePlan(plan), '4 slices chosen; skipped 2 _mask files, 1 other file.');
  });

  it('sends zips, alone or with slices', () => {
    const plan = planUpload(named('patient.zip', 'P_1.tif'));
    assert.equal(plan.kind, 'send');
    if (plan.kind !== 'send') return;
    assert.equal(plan.zips, 1);
    assert.equal(plan.images, 1);
    assert.equal(describePlan(plan), '1 slice and 1 zip chosen.');
  });

  it('ignores OS clutter silently', () => {
    const plan = planUpload(named('.DS_Store', '._P_1.tif', 'Thumbs.db', 'P_1.tif'));
    assert.equal(plan.kind, 'send');
    if (plan.kind !== 'send') return;
    assert.deepEqual(
      plan.files.map((f) => f.name),
      ['P_1.tif'],
    );
    assert.deepEqual(plan.skippedOther, []);
  });

  it('explains an empty choice, naming masks when those were all there was', () => {
    const onlyMasks = planUpload(named('P_1_mask.tif'));
    assert.equal(onlyMasks.kind, 'error');
    assert.match(describePlan(onlyMasks), /only 1 _mask file/);
    assert.equal(planUpload([]).kind, 'error');
  });

  it('tells masks by the dataset suffix only', () => {
    assert.equal(isMaskFileName('TCGA_CS_4941_19960909_12_mask.tif'), true);
    assert.equal(isMaskFileName('TCGA_CS_4941_19960909_12_MASK.TIF'), true);
    assert.equal(isMaskFileName('masked_1.tif'), false);
  });
});
