// Confusion matrix heatmap with the count written in each cell; rows are the truth, columns the prediction.
import type { ConfusionCounts } from '../../metrics/confusion.ts';
import { type Figure, renderVegaLite } from './render.ts';

const classes = ['no tumour', 'tumour'];

/** `title` replaces the default one (which names the threshold, when there is one). */
export function confusionMatrixFigure(
  c: ConfusionCounts,
  threshold?: number,
  title?: string,
): Promise<Figure> {
  const cells = [
    { actual: 'no tumour', predicted: 'no tumour', count: c.tn },
    { actual: 'no tumour', predicted: 'tumour', count: c.fp },
    { actual: 'tumour', predicted: 'no tumour', count: c.fn },
    { actual: 'tumour', predicted: 'tumour', count: c.tp },
  ];
  const half = Math.max(c.tn, c.fp, c.fn, c.tp) / 2;
  const x = {
    field: 'predicted',
    type: 'nominal',
    sort: classes,
    title: 'Predicted',
    axis: { labelAngle: 0 },
  } as const;
  const y = { field: 'actual', type: 'nominal', sort: classes, title: 'True' } as const;
  return renderVegaLite({
    title:
      title ??
      (threshold === undefined ? 'Confusion matrix' : `Confusion matrix (threshold ${threshold.toFixed(3)})`),
    width: 240,
    height: 240,
    data: { values: cells },
    encoding: { x, y },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, title: 'Slices' },
        },
      },
      {
        mark: { type: 'text', fontSize: 18 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${half}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  });
}
