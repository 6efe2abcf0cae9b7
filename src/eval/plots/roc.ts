// ROC curve from curves.json, with the AUC in the title and the chance diagonal.
import type { TopLevelSpec } from 'vega-lite';
import type { RocPoint } from '../curves-json.ts';
import { type Figure, formatFigure, renderVegaLite, unitAxis } from './render.ts';

export function rocFigure(
  points: readonly RocPoint[],
  auc: number | null,
  operatingPoint?: { fpr: number; tpr: number },
): Promise<Figure> {
  const x = unitAxis('fpr', 'False positive rate (1 - specificity)');
  const y = unitAxis('tpr', 'True positive rate (recall)');
  const layers: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [
    {
      data: {
        values: [
          { fpr: 0, tpr: 0 },
          { fpr: 1, tpr: 1 },
        ],
      },
      mark: { type: 'line', strokeDash: [4, 4], color: '#999999' },
      encoding: { x, y },
    },
    {
      data: {
        values: points.filter((p) => p.fpr !== null && p.tpr !== null).map((p, order) => ({ ...p, order })),
      },
      mark: { type: 'line', color: '#1f77b4', strokeWidth: 2 },
      encoding: { x, y, order: { field: 'order', type: 'quantitative' } },
    },
  ];
  if (operatingPoint !== undefined) {
    layers.push({
      data: { values: [operatingPoint] },
      mark: { type: 'point', filled: true, size: 80, color: '#d62728' },
      encoding: { x, y },
    });
  }
  return renderVegaLite({
    title: `ROC curve (AUC = ${formatFigure(auc)})`,
    width: 320,
    height: 320,
    layer: layers,
  });
}
