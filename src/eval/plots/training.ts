// Training curves: one panel per logged metric, train against validation, per epoch.
import { type TrainingLogRecord, trainingPoints } from '../training-log.ts';
import { type Figure, renderVegaLite } from './render.ts';

/** null when the log holds no epoch figures (a model trained elsewhere, or no log at all). */
export async function trainingCurvesFigure(
  records: readonly TrainingLogRecord[],
  title: string,
): Promise<Figure | null> {
  const points = trainingPoints(records);
  if (points.length === 0) return null;
  return renderVegaLite({
    title,
    data: { values: points },
    columns: 3,
    facet: { field: 'metric', type: 'nominal', title: null },
    spec: {
      width: 220,
      height: 160,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'Epoch' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'split', type: 'nominal', title: 'Split', sort: ['train', 'validation'] },
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}
