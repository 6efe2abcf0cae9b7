// Precision-recall curve from curves.json, drawn as the step function that average precision sums.
import type { PrecisionRecallPoint } from '../curves-json.ts';
import { type Figure, formatFigure, renderVegaLite, unitAxis } from './render.ts';

export function precisionRecallFigure(
  points: readonly PrecisionRecallPoint[],
  averagePrecision: number | null,
  baseline: number | null,
): Promise<Figure> {
  const x = unitAxis('recall', 'Recall');
  const y = unitAxis('precision', 'Precision');
  return renderVegaLite({
    title: `Precision-recall curve (AP = ${formatFigure(averagePrecision)})`,
    width: 320,
    height: 320,
    layer: [
      ...(baseline === null
        ? []
        : [
            {
              data: {
                values: [
                  { recall: 0, precision: baseline },
                  { recall: 1, precision: baseline },
                ],
              },
              mark: { type: 'line' as const, strokeDash: [4, 4], color: '#999999' },
              encoding: { x, y },
            },
          ]),
      {
        data: {
          values: points
            .filter((p) => p.recall !== null && p.precision !== null)
            .map((p, order) => ({ ...p, order })),
        },
        // step-before: precision P_n holds over (R_(n-1), R_n], exactly the area average precision adds up
        mark: { type: 'line', interpolate: 'step-before', color: '#1f77b4', strokeWidth: 2 },
        encoding: { x, y, order: { field: 'order', type: 'quantitative' } },
      },
    ],
  });
}
