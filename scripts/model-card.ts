// The Markdown model card of a shipped model (models/<kind>.md), rendered from its JSON config alone: the `card`
// holds every figure (copied from evaluation and cross-validation outputs by the shipping scripts), the config
// holds the decision in use. Both shipping scripts write cards through this one function.

// biome-ignore lint/suspicious/noExplicitAny: shipped JSON, validated where its figures were written.
type Json = any;

export type ModelKind = 'classifier' | 'segmenter';

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`;
const pctSd = (f: { mean: number | null; sd: number | null }) =>
  f.mean === null ? 'n/a' : `${pct(f.mean)} ± ${f.sd === null ? 'n/a' : (100 * f.sd).toFixed(1)}`;

/** The slice decision of the shipped pair, in words. */
export function decisionInWords(segmenter: Json, classifierThreshold: number): string {
  const fusion = segmenter.fusion;
  if (!fusion || fusion.detector === 'classifier')
    return `a slice is segmented when the classifier's P(tumour) ≥ ${(fusion?.threshold ?? classifierThreshold).toFixed(4)}${fusion?.sliceRadius ? `, averaged over ±${fusion.sliceRadius} neighbouring slices` : ''} (the reference gate)`;
  if (fusion.detector === 'segmenter' && fusion.threshold === 0 && !fusion.sliceRadius)
    return 'the segmenter runs on every slice; a slice holds tumour iff its final mask does (no gate)';
  return `a slice is segmented when the fused score (${fusion.detector}${fusion.sliceRadius ? `, ±${fusion.sliceRadius} slices` : ''}) ≥ ${fusion.threshold}`;
}

function postprocessInWords(p: Json): string {
  return [
    `pixel threshold ${p.threshold}`,
    p.minComponentArea > 0 ? `components under ${p.minComponentArea} px removed` : null,
    p.largest3DComponent ? 'largest 3-D component kept' : null,
    p.tta === 'flips' ? 'flip test-time augmentation' : 'no test-time augmentation',
  ]
    .filter(Boolean)
    .join(', ');
}

function crossValidationSection(cv: Json): string[] {
  const f = cv.overFolds;
  const o = cv.outOfFold;
  return [
    '## Cross-validation (how the recipe does on patients it never saw)',
    '',
    `${cv.patients} patients in ${cv.folds} folds (${cv.split}); per fold, the recipe trained on the other folds and was scored on the held one, every decision made on the other folds. Written by \`${cv.command}\` at commit ${cv.commit}.`,
    `${cv.weights}`,
    ...(cv.note ? ['', `**Note:** ${cv.note}`] : []),
    '',
    '| | mean ± sd over folds | all out-of-fold patients |',
    '| --- | --- | --- |',
    `| Dice per patient volume, mean | ${pctSd(f.meanPatientDice)} | ${pct(o.meanPatientDice)} |`,
    `| Dice per patient volume, median | ${pctSd(f.medianPatientDice)} | ${pct(o.medianPatientDice)} |`,
    `| IoU per patient volume, mean | | ${pct(o.meanPatientIoU)} |`,
    `| slice detection accuracy (two stages) | ${pctSd(f.accuracy)} | ${pct(o.accuracy)} |`,
    `| slice detection ROC-AUC (two stages) | ${pctSd(f.auc)} | ${pct(o.auc)} |`,
    `| slice detection recall / specificity | ${pctSd(f.recall)} / ${pctSd(f.specificity)} | ${pct(o.recall)} / ${pct(o.specificity)} |`,
    `| classifier alone: accuracy / ROC-AUC | ${pctSd(f.classifierAccuracy)} / ${pctSd(f.classifierAuc)} | ${pct(o.classifierAccuracy)} / ${pct(o.classifierAuc)} |`,
    '',
  ];
}

function testSection(kind: ModelKind, shipped: Json): string[] {
  const t = shipped.card.test;
  const lines = ['## Test-split figures', ''];
  if (t.note) lines.push(t.note, '');
  if (kind === 'classifier') {
    lines.push(
      '| accuracy | precision | recall | specificity | F1 | ROC-AUC |',
      '| --- | --- | --- | --- | --- | --- |',
      `| ${[t.accuracy, t.precision, t.recall, t.specificity, t.f1, t.auc].map(pct).join(' | ')} |`,
      '',
      `Confusion (slices): TP ${t.confusion.tp}, FP ${t.confusion.fp}, TN ${t.confusion.tn}, FN ${t.confusion.fn}.`,
    );
    return lines;
  }
  const e = t.endToEnd;
  const steps: Json[] = t.postprocessSteps;
  const withIoU = steps.every((s) => s.meanSliceIoU !== undefined);
  lines.push(
    `End to end: Dice per patient volume mean ${pct(e.meanPatientDice)}, median ${pct(e.medianPatientDice)}.`,
    '',
    'The segmenter alone on every slice, each post-processing step switched on in turn:',
    '',
    `| step | patient Dice mean | median | tumour-slice Dice${withIoU ? ' | tumour-slice IoU' : ''} |`,
    `| --- | --- | --- | ---${withIoU ? ' | ---' : ''} |`,
    ...steps.map(
      (s) =>
        `| ${s.step} | ${pct(s.meanPatientDice)} | ${pct(s.medianPatientDice)} | ${pct(s.meanSliceDice)}${withIoU ? ` | ${pct(s.meanSliceIoU)}` : ''} |`,
    ),
  );
  return lines;
}

/** The validation patients' figures at the best epoch: they chose it, so they flatter the model. */
function validationSection(v: Json): string[] {
  const figures = Object.entries(v).filter(([key]) => key.startsWith('val_'));
  return [
    '## Validation figures (optimistic)',
    '',
    `${v.patients} validation patients (not trained on, but they chose the best epoch, ${v.bestEpoch}), figures at that epoch:`,
    '',
    ...figures.map(([key, value]) => `- ${key.slice('val_'.length).replaceAll('_', ' ')}: ${value}`),
  ];
}

/** models/<kind>.md for a shipped config; `decision` is the pair's slice decision in words. */
export function modelCardMarkdown(
  kind: ModelKind,
  shipped: Json,
  o: { logShipped: boolean; decision: string },
): string {
  const card = shipped.card;
  const decision =
    kind === 'segmenter'
      ? [
          `Slices: ${o.decision}. Masks: ${postprocessInWords(shipped.postprocess)}.`,
          '',
          `Chosen as: ${shipped.postprocessRule}.`,
        ]
      : [
          `Threshold ${shipped.threshold.toFixed(4)} (${shipped.thresholdRule}).`,
          `In the shipped pair: ${o.decision}.${card.role ? ` ${card.role}` : ''}`,
        ];
  return [
    `# ${card.name}`,
    '',
    `**Research tool, not a medical device.** ${card.task}.`,
    '',
    `- Files: \`models/${kind}.safetensors\` (weights) + \`models/${kind}.json\` (network, preprocessing, threshold${kind === 'segmenter' ? ', post-processing, the slice decision' : ''}, this card as \`card\`)${o.logShipped ? ` + \`models/${kind}.log.jsonl\` (the training log, one line per epoch)` : ''}.`,
    ...(o.logShipped ? [] : ["- Training log: none shipped (its run's log.jsonl was not found)."]),
    `- Input: ${shipped.preprocess.width}×${shipped.preprocess.height} RGB, intensities rescaled to [0, 1].`,
    `- Training data: ${card.training.data}.`,
    `- Trained by: \`${card.training.command}\` (best epoch ${shipped.bestEpoch}).`,
    card.evaluation
      ? `- Evaluated by: \`${card.evaluation.command}\` at commit ${card.evaluation.commit}, on the ${card.evaluation.split}.`
      : '- Evaluated by: the cross-validation of its recipe (below); no patient was held out of its training.',
    '',
    '## Decision in use',
    '',
    ...decision,
    '',
    ...(card.crossValidation ? crossValidationSection(card.crossValidation) : []),
    ...(card.test ? testSection(kind, shipped) : validationSection(card.validation)),
    '',
    '## Limits',
    '',
    ...card.limits.map((l: string) => `- ${l}`),
    '',
  ].join('\n');
}
