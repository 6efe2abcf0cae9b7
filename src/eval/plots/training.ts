// Training curves: one panel per logged metric, train against validation, per epoch; several runs (the folds of
// a cross-validation) share the panels, one colour a run, validation dashed.
import { type TrainingLogRecord, trainingPoints } from '../training-log.ts';
import { type Figure, renderVegaLite } from './render.ts';

/** A named training log, e.g. one fold's. */
export interface TrainingRun {
  name: string;
  records: readonly TrainingLogRecord[];
}

function panels(values: object[], title: string, encoding: object, points: boolean): Promise<Figure> {
  return renderVegaLite({
    title,
    data: { values },
    columns: 3,
    facet: { field: 'metric', type: 'nominal', title: null },
    spec: {
      width: 220,
      height: 160,
      mark: { type: 'line', point: points },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'Epoch' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        ...encoding,
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}

const splitOrder = ['train', 'validation'];

/** null when the log holds no epoch figures (a model trained elsewhere, or no log at all). */
export async function trainingCurvesFigure(
  records: readonly TrainingLogRecord[],
  title: string,
): Promise<Figure | null> {
  const points = trainingPoints(records);
  if (points.length === 0) return null;
  return panels(
    points,
    title,
    { color: { field: 'split', type: 'nominal', title: 'Split', sort: splitOrder } },
    true,
  );
}

/** Every run's curves in the same panels; null when no run logged an epoch. */
export async function runsTrainingCurvesFigure(
  runs: readonly TrainingRun[],
  title: string,
): Promise<Figure | null> {
  const points = runs.flatMap((r) => trainingPoints(r.records).map((p) => ({ ...p, run: r.name })));
  if (points.length === 0) return null;
  return panels(
    points,
    title,
    {
      color: { field: 'run', type: 'nominal', title: null, sort: runs.map((r) => r.name) },
      strokeDash: {
        field: 'split',
        type: 'nominal',
        title: 'Split',
        sort: splitOrder,
        legend: { symbolType: 'stroke', symbolStrokeWidth: 2 },
      },
    },
    false,
  );
}
