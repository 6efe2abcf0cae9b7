// How much the "largest 3-D component" rule costs where it keeps the wrong blob: on a CV run's OOF maps
// (no TTA, every slice segmented, no gate), each patient's Dice with every component kept, with the largest (by
// voxels, as shipped), with the best one in hindsight (an oracle, the ceiling of any choice of one component),
// and with two other rules: the largest probability mass, and the mass weighted by the classifier's P(tumour)
// of each voxel's slice. Prints the patients where the largest is not the best, then the means over patients,
// then the largest's mean per fold.
//
//   node --import tsx scripts/oof-component-choice.ts --data DATA/kaggle_3m --cv runs/cv-variant-ms [--threshold 0.3]
import { parseArgs } from 'node:util';
import { byteThreshold } from '../src/pipeline/cv-analysis.ts';
import { labelComponents, neighbourhood } from '../src/postprocess/label-components.ts';
import { loadOofRun } from './oof-run.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    cv: { type: 'string' },
    threshold: { type: 'string', default: '0.3' },
  },
});
const patients = await loadOofRun(
  values.data,
  values.cv,
  'oof-component-choice.ts --data DIR --cv CV [--threshold t]',
);
const SIX_CONNECTED = neighbourhood({ z: true, y: true, x: true }, 1);
const rules = ['all', 'largest', 'oracle', 'mass', 'classifier-weighted mass'] as const;
const sums = Object.fromEntries(rules.map((r) => [r, 0])) as Record<(typeof rules)[number], number>;
// The shipped rule's Dice per fold: one fixed decision, so that recipes can be compared fold by fold.
const largestByFold = new Map<number, number[]>();

for (const p of patients) {
  const probs = p.probs.none;
  if (!probs) throw new Error(`${p.id}: no maps without TTA`);
  const t = byteThreshold(Number(values.threshold));
  const mask = Uint8Array.from(probs, (v) => (v >= t ? 1 : 0));
  const { labels, sizes, count } = labelComponents(mask, p.d, p.h, p.w, SIX_CONNECTED);
  const plane = p.h * p.w;
  const hit = new Float64Array(count + 1);
  const mass = new Float64Array(count + 1);
  const weighted = new Float64Array(count + 1);
  let truth = 0;
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (p.truth[i]) truth++;
    if (c === 0) continue;
    if (p.truth[i]) hit[c]! += 1;
    mass[c]! += probs[i]! / 255;
    weighted[c]! += (probs[i]! / 255) * (p.classifierP?.[Math.floor(i / plane)] ?? 1);
  }
  const diceOf = (c: number) => (count === 0 ? 0 : (2 * hit[c]!) / (sizes[c]! + truth));
  const argmax = (score: (c: number) => number) => {
    let best = 1;
    for (let c = 2; c <= count; c++) if (score(c) > score(best)) best = c;
    return best;
  };
  let predicted = 0;
  let overlap = 0;
  for (let c = 1; c <= count; c++) {
    predicted += sizes[c]!;
    overlap += hit[c]!;
  }
  const dice = {
    all: (2 * overlap) / (predicted + truth),
    largest: diceOf(argmax((c) => sizes[c]!)),
    oracle: diceOf(argmax(diceOf)),
    mass: diceOf(argmax((c) => mass[c]!)),
    'classifier-weighted mass': diceOf(argmax((c) => weighted[c]!)),
  };
  for (const r of rules) sums[r] += dice[r];
  largestByFold.set(p.fold, [...(largestByFold.get(p.fold) ?? []), dice.largest]);
  if (dice.oracle > dice.largest + 0.01)
    console.log(
      `${p.id} (fold ${p.fold}): ${count} components; ${rules.map((r) => `${r} ${dice[r].toFixed(3)}`).join(', ')}`,
    );
}
console.log(
  `mean Dice per patient over ${patients.length}: ${rules.map((r) => `${r} ${(sums[r] / patients.length).toFixed(4)}`).join(', ')}`,
);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `largest, per fold: ${[...largestByFold]
    .sort(([a], [b]) => a - b)
    .map(([f, ds]) => `fold ${f} ${mean(ds).toFixed(3)} (${ds.length})`)
    .join(', ')}`,
);
