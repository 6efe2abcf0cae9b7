import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BATCH_NORM_EPS,
  IMAGENET_NORMALIZATION,
  type ImportReport,
  importPretrained,
} from '../../../src/models/import/index.ts';
import { assertClose } from '../../helpers/assert-close.ts';
import { evalForward, expectedOutputs, fixture, smallDenseNet } from './helpers.ts';

const expected = expectedOutputs();

// Each published format, as scripts/make-import-fixtures.py writes it from one torchvision model.
const FILES = [
  { file: 'densenet-small.pth', format: 'torch-zip', oldKeys: 0, counters: true, head: true },
  { file: 'densenet-small-old-keys.pth', format: 'torch-zip', oldKeys: 60, counters: true, head: true },
  { file: 'densenet-small-legacy.pth', format: 'torch-legacy', oldKeys: 50, counters: false, head: true },
  { file: 'densenet-small-torch03.pth', format: 'torch-legacy', oldKeys: 50, counters: false, head: true },
  { file: 'densenet-small-keras.h5', format: 'keras-h5', oldKeys: 0, counters: false, head: true },
  { file: 'densenet-small-keras-notop.h5', format: 'keras-h5', oldKeys: 0, counters: false, head: false },
] as const;

function backboneKeys(keys: Iterable<string>, withCounters: boolean): string[] {
  return [...keys].filter(
    (k) => !k.startsWith('classifier.') && (withCounters || !k.endsWith('num_batches_tracked')),
  );
}

describe('importPretrained', () => {
  for (const f of FILES) {
    it(`${f.file}: loads every backbone tensor, leaves the head new, and computes torchvision's features`, () => {
      const net = smallDenseNet();
      const headBefore = Array.from(net.stateDict().get('classifier.weight')!.toFloat32());
      const report: ImportReport = importPretrained(fixture(f.file), net);

      assert.equal(report.format, f.format);
      assert.equal(report.file, fixture(f.file));
      assert.deepEqual(report.loaded, backboneKeys(net.stateDict().keys(), f.counters));
      assert.deepEqual(report.leftNew, ['classifier.weight', 'classifier.bias']);
      assert.deepEqual(
        report.countersNotInFile,
        f.counters ? [] : [...net.stateDict().keys()].filter((k) => k.endsWith('num_batches_tracked')),
      );
      assert.equal(report.renamedOldKeys, f.oldKeys);
      const skippedHead = report.skipped.map((s) => s.reason.startsWith('ImageNet classifier'));
      assert.equal(skippedHead.length, f.head ? 2 : 0, JSON.stringify(report.skipped));
      assert.ok(skippedHead.every(Boolean), JSON.stringify(report.skipped));
      assert.deepEqual(
        Array.from(net.stateDict().get('classifier.weight')!.toFloat32()),
        headBefore,
        'the 2-class head must be left as initialised',
      );

      const { features } = evalForward(net, expected.input);
      assertClose(features, expected.features, { atol: 1e-5, rtol: 1e-5, what: `${f.file} pooled features` });
    });
  }

  for (const f of FILES.filter((x) => x.head)) {
    it(`${f.file}: with loadHead, reproduces torchvision's 1000-class logits`, () => {
      const net = smallDenseNet({ numClasses: 1000 });
      const report = importPretrained(fixture(f.file), net, { loadHead: true });
      assert.deepEqual(report.leftNew, []);
      assert.deepEqual(report.skipped, []);
      assert.ok(report.loaded.includes('classifier.weight') && report.loaded.includes('classifier.bias'));
      const { logits } = evalForward(net, expected.input);
      assertClose(logits, expected.logits, { atol: 1e-5, rtol: 1e-5, what: `${f.file} logits` });
    });
  }

  it('a model with its own head (hidden layer, dropout) keeps all of it new', () => {
    const net = smallDenseNet({ headHidden: 16, headDropout: 0.3 });
    const report = importPretrained(fixture('densenet-small-torch03.pth'), net);
    assert.deepEqual(report.leftNew, [
      'classifier.hidden.weight',
      'classifier.hidden.bias',
      'classifier.out.weight',
      'classifier.out.bias',
    ]);
    assert.deepEqual(
      report.skipped.map((s) => s.name),
      ["'classifier.weight'", "'classifier.bias'"],
    );
    assert.ok(report.skipped.every((s) => s.reason.startsWith('ImageNet classifier')));
    const { features } = evalForward(net, expected.input);
    assertClose(features, expected.features, { atol: 1e-5, rtol: 1e-5, what: 'pooled features' });
  });

  it('states the input normalisation and the batch-norm epsilon the weights expect', () => {
    const torch = importPretrained(fixture('densenet-small.pth'), smallDenseNet());
    assert.deepEqual(torch.inputNormalization, IMAGENET_NORMALIZATION);
    assert.deepEqual(IMAGENET_NORMALIZATION.mean, [0.485, 0.456, 0.406]);
    assert.deepEqual(IMAGENET_NORMALIZATION.std, [0.229, 0.224, 0.225]);
    assert.deepEqual(IMAGENET_NORMALIZATION.range, [0, 1]);
    assert.equal(IMAGENET_NORMALIZATION.channels, 'RGB');
    assert.equal(torch.batchNormEps, 1e-5);
    assert.deepEqual(torch.warnings, []);

    const keras = importPretrained(fixture('densenet-small-keras-notop.h5'), smallDenseNet());
    assert.deepEqual(keras.inputNormalization, IMAGENET_NORMALIZATION);
    assert.equal(keras.batchNormEps, 1.001e-5);
    assert.equal(BATCH_NORM_EPS['keras-h5'], 1.001e-5);
    assert.equal(keras.warnings.length, 1);
    assert.match(keras.warnings[0]!, /epsilon 0\.00001001.*uses 0\.00001/);
  });

  it('the torch and Keras files of one model load identical weights', () => {
    const fromTorch = smallDenseNet();
    const fromKeras = smallDenseNet();
    importPretrained(fixture('densenet-small-legacy.pth'), fromTorch);
    importPretrained(fixture('densenet-small-keras-notop.h5'), fromKeras);
    const keras = fromKeras.stateDict();
    for (const [key, t] of fromTorch.stateDict()) {
      if (key.startsWith('classifier.')) continue;
      assert.deepEqual(Array.from(keras.get(key)!.toFloat32()), Array.from(t.toFloat32()), key);
    }
  });
});
