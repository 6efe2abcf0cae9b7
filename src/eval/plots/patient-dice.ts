// End-to-end Dice per patient volume as horizontal bars, best at the top, with the mean as a rule.
import type { MetricsJson } from '../metrics-json.ts';
import { type Figure, formatFigure, renderVegaLite, unitAxis } from './render.ts';

export function patientDiceFigure(endToEnd: MetricsJson['endToEnd']): Promise<Figure> {
  const bars = endToEnd.perPatient.filter((p) => p.dice !== null).map((p) => ({ id: p.id, dice: p.dice }));
  const excluded = endToEnd.undefinedDicePatients;
  const x = unitAxis('dice', 'Dice (per patient volume)');
  return renderVegaLite({
    title: {
      text: `Dice per patient (mean ${formatFigure(endToEnd.meanPatientDice)}, median ${formatFigure(endToEnd.medianPatientDice)})`,
      subtitle: excluded > 0 ? `${excluded} patient(s) without true or predicted tumour left out` : '',
    },
    width: 360,
    height: { step: 14 },
    layer: [
      {
        data: { values: bars },
        mark: { type: 'bar', color: '#1f77b4' },
        encoding: { x, y: { field: 'id', type: 'nominal', sort: '-x', title: null } },
      },
      ...(endToEnd.meanPatientDice === null
        ? []
        : [
            {
              data: { values: [{ dice: endToEnd.meanPatientDice }] },
              mark: { type: 'rule' as const, color: '#d62728', strokeDash: [4, 4] },
              encoding: { x },
            },
          ]),
    ],
  });
}
