// Which opened or dropped files the viewer sends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describePlan,
  isMaskFileName,
  mayBeDicom,
  planUpload,
  sequenceOfName,
} from '../../web/src/upload-plan.ts';

const named = (...names: string[]) => names.map((name) => ({ name }));
/** Files at these paths, DICOM (as the page finds by reading them) unless named with a known extension. */
const pathed = (...paths: string[]) =>
  paths.map((path) => {
    const name = path.split('/').pop()!;
    return { name, path, dicom: mayBeDicom(name) };
  });
const seriesOf = (plan: ReturnType<typeof planUpload<ReturnType<typeof pathed>[number]>>) =>
  plan.kind === 'send'
    ? Object.entries(plan.series).map(([field, files]) => [field, files.map((f) => f.path)])
    : plan.message;

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

  it('sends one NIfTI volume whose name gives no sequence as the 4-D volume of all three', () => {
    const plan = planUpload(named('sub-01.nii.gz', '.DS_Store', 'notes.txt'));
    assert.equal(plan.kind, 'send');
    if (plan.kind !== 'send') return;
    assert.deepEqual(
      plan.files.map((f) => f.name),
      ['sub-01.nii.gz'],
    );
    assert.deepEqual(plan.sequences, {});
    assert.equal(plan.volumes, 1);
    assert.equal(describePlan(plan), '1 NIfTI volume chosen; skipped 1 other file.');
  });

  it('sends sequences apart in the fields their names give, FLAIR required', () => {
    const plan = planUpload(named('sub-01_flair.nii.gz', 'sub-01_PRE.nii', 'sub-01-post.nii.gz'));
    assert.equal(plan.kind, 'send');
    if (plan.kind !== 'send') return;
    assert.deepEqual(plan.files, []);
    assert.deepEqual(
      Object.entries(plan.sequences).map(([field, file]) => [field, file.name]),
      [
        ['flair', 'sub-01_flair.nii.gz'],
        ['pre', 'sub-01_PRE.nii'],
        ['post', 'sub-01-post.nii.gz'],
      ],
    );
    assert.equal(describePlan(plan), 'NIfTI pre-contrast, FLAIR, post-contrast chosen.');
    // FLAIR alone is a one-sequence volume for field 'flair', not a 4-D volume.
    const flair = planUpload(named('flair.nii'));
    assert.ok(
      flair.kind === 'send' && flair.sequences.flair?.name === 'flair.nii' && flair.files.length === 0,
    );
  });

  it('refuses NIfTI mixed with slices, unnamed or repeated sequences, and sequences without FLAIR', () => {
    const message = (...names: string[]) => {
      const plan = planUpload(named(...names));
      return plan.kind === 'error' ? plan.message : `sent ${describePlan(plan)}`;
    };
    assert.match(message('a.nii.gz', 'P_1.tif'), /^A NIfTI volume is a whole patient: open a\.nii\.gz alone/);
    assert.match(message('t1.nii.gz', 'b_flair.nii.gz'), /^t1\.nii\.gz: name each volume by its sequence/);
    assert.match(
      message('a_flair.nii', 'b_flair.nii.gz'),
      /^b_flair\.nii\.gz: a second FLAIR volume \(a_flair\.nii\)/,
    );
    assert.match(message('a_pre.nii', 'a_post.nii'), /^No FLAIR volume among a_pre\.nii, a_post\.nii/);
  });

  it('reads a sequence from the end of a name only', () => {
    assert.equal(sequenceOfName('TCGA_x_flair.nii.gz'), 'flair');
    assert.equal(sequenceOfName('post.NII'), 'post');
    assert.equal(sequenceOfName('preop.nii.gz'), undefined);
    assert.equal(sequenceOfName('flair_2.nii.gz'), undefined);
    assert.equal(sequenceOfName('x_flair.tif'), undefined);
  });

  it('tells masks by the dataset suffix only', () => {
    assert.equal(isMaskFileName('TCGA_CS_4941_19960909_12_mask.tif'), true);
    assert.equal(isMaskFileName('TCGA_CS_4941_19960909_12_MASK.TIF'), true);
    assert.equal(isMaskFileName('masked_1.tif'), false);
  });

  it('sends one DICOM series folder as FLAIR, leaving other files and the DICOMDIR out', () => {
    const plan = planUpload(
      pathed('P01/IM1', 'P01/IM2.dcm', 'P01/notes.txt', 'P01/DICOMDIR', 'P01/.DS_Store'),
    );
    assert.deepEqual(seriesOf(plan), [['flair', ['P01/IM1', 'P01/IM2.dcm']]]);
    assert.equal(describePlan(plan), 'DICOM FLAIR (2 files) chosen; skipped 1 other file.');
    assert.deepEqual(seriesOf(planUpload(pathed('IM1', 'IM2'))), [['flair', ['IM1', 'IM2']]], 'loose files');
  });

  it('sends a patient folder of series folders named by their sequence, each in its field', () => {
    const plan = planUpload(
      pathed('P01/T2_FLAIR/IM1', 'P01/T2_FLAIR/IM2', 'P01/pre/IM1', 'P01/pre/IM2', 'P01/sub-01-post/IM1'),
    );
    assert.deepEqual(seriesOf(plan), [
      ['flair', ['P01/T2_FLAIR/IM1', 'P01/T2_FLAIR/IM2']],
      ['pre', ['P01/pre/IM1', 'P01/pre/IM2']],
      ['post', ['P01/sub-01-post/IM1']],
    ]);
    assert.equal(
      describePlan(plan),
      'DICOM pre-contrast (2 files), FLAIR (2 files), post-contrast (1 file) chosen.',
    );
  });

  it('refuses unnamed or repeated series folders, series without FLAIR, and DICOM mixed with other inputs', () => {
    assert.match(
      String(seriesOf(planUpload(pathed('P01/t1/IM1', 'P01/flair/IM1')))),
      /^P01\/t1: name each series folder by its sequence/,
    );
    assert.match(
      String(seriesOf(planUpload(pathed('A/flair/IM1', 'B/flair/IM1')))),
      /^B\/flair: a second FLAIR series/,
    );
    assert.match(
      String(seriesOf(planUpload(pathed('P01/pre/IM1', 'P01/post/IM1')))),
      /^No FLAIR series among/,
    );
    assert.match(
      String(seriesOf(planUpload(pathed('P01/flair/IM1', 'P_1.tif')))),
      /^A DICOM series is a whole patient/,
    );
  });

  it('reads only files without a telling extension to look for DICOM', () => {
    assert.deepEqual(
      ['IM0001', 'a.dcm', '1.2.840.113619.2.1', 'P_1.tif', 'x.nii.gz', 'p.zip', 'DICOMDIR', '.DS_Store'].map(
        mayBeDicom,
      ),
      [true, true, true, false, false, false, false, false],
    );
  });
});
