// Whether averaging a CV run's OOF probability maps along the slice axis helps: each map becomes
// (1 − 2w)·pₖ + w·(pₖ₋₁ + pₖ₊₁) (the volume's end slices repeated), then the fixed decision — pixel threshold t,
// no gate, no TTA, largest 3-D component — and the mean Dice per patient, over all and per fold, for each w.
//
//   node --import tsx scripts/oof-slice-smoothing.ts --data DATA/kaggle_3m --cv runs/cv-variant-ms [--thresholds 0.3,0.5]
import { parseArgs } from 'node:util';
import { labelComponents, neighbourhood } from '../src/postprocess/label-components.ts';
import { loadOofRun } from './oof-run.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    cv: { type: 'string' },
    thresholds: { type: 'string', default: '0.3,0.5' },
  },
});
const patients = await loadOofRun(
  values.data,
  values.cv,
  'oof-slice-smoothing.ts --data DIR --cv CV [--thresholds 0.3,0.5]',
);
const SIX_CONNECTED = neighbourhood({ z: true, y: true, x: true }, 1);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

for (const t of values.thresholds.split(',').map(Number)) {
  for (const w of [0, 0.1, 0.2, 0.25, 1 / 3]) {
    const byFold = new Map<number, number[]>();
    for (const p of patients) {
      const probs = p.probs.none;
      if (!probs) throw new Error(`${p.id}: no maps without TTA`);
      const plane = p.h * p.w;
      const mask = new Uint8Array(probs.length);
      for (let z = 0; z < p.d; z++) {
        const before = Math.max(0, z - 1) * plane;
        const here = z * plane;
        const after = Math.min(p.d - 1, z + 1) * plane;
        for (let i = 0; i < plane; i++) {
          const v = ((1 - 2 * w) * probs[here + i]! + w * (probs[before + i]! + probs[after + i]!)) / 255;
          mask[here + i] = v >= t ? 1 : 0;
        }
      }
      const { labels, sizes, count } = labelComponents(mask, p.d, p.h, p.w, SIX_CONNECTED);
      let largest = 0;
      for (let c = 1; c <= count; c++) if (largest === 0 || sizes[c]! > sizes[largest]!) largest = c;
      let truth = 0;
      let hit = 0;
      for (let i = 0; i < labels.length; i++)
        if (p.truth[i]) {
          truth++;
          if (largest && labels[i] === largest) hit++;
        }
      const kept = largest ? sizes[largest]! : 0;
      const dice = truth + kept === 0 ? 1 : (2 * hit) / (truth + kept);
      byFold.set(p.fold, [...(byFold.get(p.fold) ?? []), dice]);
    }
    const folds = [...byFold].sort(([a], [b]) => a - b);
    console.log(
      `threshold ${t} w ${w.toFixed(2)}: all ${mean(folds.flatMap(([, d]) => d)).toFixed(3)} | ${folds.map(([f, d]) => `fold ${f} ${mean(d).toFixed(3)}`).join(', ')}`,
    );
  }
}
