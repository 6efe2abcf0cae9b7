// ROC curves from curves.json, with the AUC in the title (one curve) or the legend (several) and the chance
// diagonal.
import type { TopLevelSpec } from 'vega-lite';
import type { RocPoint } from '../curves-json.ts';
import { type Figure, formatFigure, renderVegaLite, unitAxis } from './render.ts';

/** One curve of a comparison, with the operating point its decisions were taken at. */
export interface RocSeries {
  name: string;
  points: readonly RocPoint[];
  auc: number | null;
  operatingPoint?: OperatingPoint;
}

/** Where the decisions were taken on the curve; `label` is written beside the dot (e.g. its threshold). */
export interface OperatingPoint {
  fpr: number;
  tpr: number;
  label?: string;
}

type Layers = NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']>;

const x = unitAxis('fpr', 'False positive rate (1 - specificity)');
const y = unitAxis('tpr', 'True positive rate (recall)');

function drawCurves(series: readonly RocSeries[], title: string | { text: string; subtitle: string }) {
  const legend = series.length > 1;
  const label = (s: RocSeries) => `${s.name} (AUC ${formatFigure(s.auc)})`;
  const colour = legend
    ? {
        color: {
          field: 'curve',
          type: 'nominal' as const,
          title: null,
          sort: series.map(label),
          legend: { orient: 'bottom' as const, direction: 'vertical' as const, labelLimit: 400 },
        },
      }
    : {};
  const layers: Layers = [
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
        values: series.flatMap((s) =>
          s.points
            .filter((p) => p.fpr !== null && p.tpr !== null)
            .map((p, order) => ({ ...p, order, curve: label(s) })),
        ),
      },
      mark: { type: 'line', strokeWidth: 2, ...(legend ? {} : { color: '#1f77b4' }) },
      encoding: { x, y, order: { field: 'order', type: 'quantitative' }, ...colour },
    },
  ];
  const points = series.flatMap((s) =>
    s.operatingPoint === undefined ? [] : [{ ...s.operatingPoint, curve: label(s) }],
  );
  if (points.length > 0) {
    layers.push({
      data: { values: points },
      mark: { type: 'point', filled: true, size: 80, ...(legend ? {} : { color: '#d62728' }) },
      encoding: { x, y, ...colour },
    });
    // Right of the dot, and left of it when the dot sits in the right half (where the text would leave the plot).
    for (const side of ['right', 'left'] as const) {
      const labelled = points.filter((p) => p.label !== undefined && (side === 'right') === p.fpr <= 0.5);
      if (labelled.length === 0) continue;
      layers.push({
        data: { values: labelled },
        mark: {
          type: 'text',
          align: side === 'right' ? 'left' : 'right',
          dx: side === 'right' ? 8 : -8,
          dy: 10,
          fontSize: 11,
          color: '#333333',
        },
        encoding: { x, y, text: { field: 'label', type: 'nominal' } },
      });
    }
  }
  return renderVegaLite({ title, width: 320, height: 320, layer: layers });
}

export function rocFigure(
  points: readonly RocPoint[],
  auc: number | null,
  operatingPoint?: OperatingPoint,
): Promise<Figure> {
  return drawCurves([{ name: 'ROC', points, auc, operatingPoint }], `ROC curve (AUC = ${formatFigure(auc)})`);
}

/** Several ROC curves in one plot, each named with its AUC in the legend; dots mark the operating points. */
export function rocComparisonFigure(
  series: readonly RocSeries[],
  title: string,
  subtitle = '',
): Promise<Figure> {
  return drawCurves(series, { text: title, subtitle });
}
