// The viewer's model panel reads the model cards generically: the shipped cards' figures appear whatever their
// depth (the segmenter's Dice is three keys down), figures before texts, lists and long texts left out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readModelConfig } from '../../src/engine/index.ts';
import { SHIPPED_MODELS } from '../../src/pipeline/default-models.ts';
import { cardRows } from '../../web/src/model-card.ts';

const cardOf = (base: string) => (readModelConfig(base) as { card: unknown }).card;

describe('model card rows', () => {
  it("show the shipped models' cross-validated figures and their validation figures", () => {
    // The segmenter trained on every development patient: its figures are its recipe's CV and its validation.
    const card = cardOf(SHIPPED_MODELS.segmenter) as {
      crossValidation: { outOfFold: { meanPatientDice: number } };
    };
    const segmenter = new Map(cardRows(card));
    assert.equal(
      segmenter.get('crossValidation.outOfFold.meanPatientDice'),
      card.crossValidation.outOfFold.meanPatientDice.toFixed(3),
    );
    assert.equal(segmenter.get('validation.val_patient_dice'), '0.778');
    // The classifier, also trained on every development patient: its validation AUC and the CV's figures.
    const classifierCard = cardOf(SHIPPED_MODELS.classifier) as {
      validation: { val_auc: number };
      crossValidation: { outOfFold: { auc: number } };
    };
    const classifier = new Map(cardRows(classifierCard));
    assert.equal(classifier.get('validation.val_auc'), classifierCard.validation.val_auc.toFixed(3));
    assert.equal(
      classifier.get('crossValidation.outOfFold.auc'),
      classifierCard.crossValidation.outOfFold.auc.toFixed(3),
    );
  });

  it('put figures first, leave out lists, long texts and what lies too deep, and keep to a dozen rows', () => {
    const rows = cardRows({
      name: 'short name',
      task: 'x'.repeat(41),
      limits: ['a', 'b'],
      test: { dice: 0.5, deep: { deeper: { deepest: 1 } }, steps: [{ dice: 0.1 }] },
      flag: true,
    });
    assert.deepEqual(rows, [
      ['test.dice', '0.500'],
      ['name', 'short name'],
      ['flag', 'yes'],
    ]);
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`m${k}`, k]));
    assert.equal(cardRows(many).length, 12);
    assert.deepEqual(cardRows(null), []);
  });
});
