// End-to-end Dice per patient volume as horizontal bars, best at the top, with the mean as a rule; bars are
// coloured by group (e.g. the cross-validation fold) when the patients carry one.
import { type Figure, formatFigure, renderVegaLite, unitAxis } from './render.ts';

export interface PatientDiceSummary {
  perPatient: readonly { id: string; dice: number | null; group?: string }[];
  meanPatientDice: number | null;
  medianPatientDice: number | null;
  /** Patients without true or predicted tumour, left out of the figures. */
  undefinedDicePatients: number;
}

export function patientDiceFigure(endToEnd: PatientDiceSummary, groupTitle = 'Group'): Promise<Figure> {
  const bars = endToEnd.perPatient
    .filter((p) => p.dice !== null)
    .map((p) => ({ id: p.id, dice: p.dice, group: p.group ?? '' }));
  const grouped = endToEnd.perPatient.some((p) => p.group !== undefined);
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
        mark: grouped ? { type: 'bar' } : { type: 'bar', color: '#1f77b4' },
        encoding: {
          x,
          y: { field: 'id', type: 'nominal', sort: '-x', title: null },
          ...(grouped ? { color: { field: 'group', type: 'nominal' as const, title: groupTitle } } : {}),
        },
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
