// How much the decision search itself costs: the nested estimate (each fold's decision chosen on the other folds)
// of three ways to choose among `cv report`'s candidates — the best mean Dice (what `cv report` does), the
// simplest candidate within one standard error of the best (Breiman's one-standard-error rule), and no search at
// all (one fixed decision: pixel threshold 0.3, no TTA, no gate, largest 3-D component). "Simplest" counts the
// choices a candidate makes beyond the fixed decision's kind: TTA, a gate, slice smoothing, small-component
// removal, all components kept; ties go to the better mean.
//
//   node --import tsx scripts/oof-selection-rule.ts --data DATA/kaggle_3m --cv runs/cv-variant-ms
import { parseArgs } from 'node:util';
import { mean, median, sampleStandardDeviation } from '../src/metrics/stats.ts';
import { type Candidate, scoreCandidates } from '../src/pipeline/cv-analysis.ts';
import { loadOofRun } from './oof-run.ts';

const { values } = parseArgs({ options: { data: { type: 'string' }, cv: { type: 'string' } } });
const patients = await loadOofRun(values.data, values.cv, 'oof-selection-rule.ts --data DIR --cv CV');
const table = scoreCandidates(patients);

const complexity = (c: Candidate) =>
  Number(c.segmenter.tta !== 'none') +
  Number(c.fusion.threshold > 0) +
  Number(c.fusion.sliceRadius > 0) +
  Number(c.segmenter.minComponentArea > 0) +
  Number(!c.largest3DComponent);
const isFixed = (c: Candidate) => complexity(c) === 0 && c.segmenter.threshold === 0.3;
const fixed = table.candidates.findIndex(isFixed);
if (fixed < 0) throw new Error('the fixed decision is not among the candidates');

const meanOver = (c: number, subset: readonly number[]) => mean(subset.map((p) => table.dice[c]![p]!));
const rules: Record<string, (outside: readonly number[]) => number> = {
  'best mean (cv report)': (outside) => table.best(outside),
  'one standard error': (outside) => {
    const best = table.best(outside);
    const scores = outside.map((p) => table.dice[best]![p]!);
    const floor = mean(scores) - sampleStandardDeviation(scores) / Math.sqrt(scores.length);
    let chosen = best;
    table.candidates.forEach((c, k) => {
      const m = meanOver(k, outside);
      if (m < floor) return;
      const simpler = complexity(c) < complexity(table.candidates[chosen]!);
      const asSimpleAndBetter =
        complexity(c) === complexity(table.candidates[chosen]!) && m > meanOver(chosen, outside);
      if (simpler || asSimpleAndBetter) chosen = k;
    });
    return chosen;
  },
  'fixed decision (no search)': () => fixed,
};

const folds = [...new Set(patients.map((p) => p.fold))].sort((a, b) => a - b);
for (const [name, choose] of Object.entries(rules)) {
  const all: number[] = [];
  const perFold: string[] = [];
  for (const fold of folds) {
    const inside = patients.flatMap((p, k) => (p.fold === fold ? [k] : []));
    const outside = patients.flatMap((p, k) => (p.fold !== fold ? [k] : []));
    const c = choose(outside);
    const dices = inside.map((p) => table.dice[c]![p]!);
    all.push(...dices);
    perFold.push(`fold ${fold} ${mean(dices).toFixed(3)} ${JSON.stringify(table.candidates[c])}`);
  }
  console.log(`${name}: nested mean / median Dice ${mean(all).toFixed(4)} / ${median(all).toFixed(4)}`);
  for (const line of perFold) console.log(`  ${line}`);
}
