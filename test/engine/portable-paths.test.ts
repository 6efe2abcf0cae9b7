// What committed files say about the folders a run used: portablePaths turns this machine's absolute paths into
// paths a reader can use from the repository (src/engine/io/portable-paths.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { portablePaths } from '../../src/engine/index.ts';

describe('portable paths', () => {
  const root = '/home/me/tumorscope';
  it('makes the repository relative, datasets path/to/kaggle_3m and run folders runs/…', () => {
    assert.equal(
      portablePaths(
        'tumorscope train classifier --data /data/lgg/kaggle_3m --split /srv/my-runs/seg/split.json --out /home/me/tumorscope/runs/c',
        root,
      ),
      'tumorscope train classifier --data path/to/kaggle_3m --split runs/seg/split.json --out runs/c',
    );
    assert.equal(portablePaths('"/data/lgg/kaggle_3m/P1/P1_3.tif"', root), '"path/to/kaggle_3m/P1/P1_3.tif"');
    assert.equal(portablePaths('/opt/weights/densenet121.pth', root), 'path/to/densenet121.pth');
    assert.equal(portablePaths(`${root}/models/classifier`, root), 'models/classifier');
  });
  it('leaves relative paths, URLs and fractions alone', () => {
    const text = 'runs/cv/split.json, https://github.com/x/y, 1/2 and/or ../shared/lgg, <p>x</p>';
    assert.equal(portablePaths(text, root), text);
  });
});
