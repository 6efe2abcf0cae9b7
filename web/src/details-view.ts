// The text beside the image: the current slice's figures and its patient's totals.
import type { PatientSummary, SlicePrediction } from './api-types.ts';
import { fillDefinitionList } from './dom.ts';
import { formatPixels, formatProbability, formatSliceRange } from './format.ts';

/** `threshold` is the gate's, and `scoreName` what the gate's score is called ('P(tumour)' for the classifier). */
export function showSliceDetails(
  list: HTMLDListElement,
  slice: SlicePrediction,
  threshold: number,
  scoreName = 'P(tumour)',
): void {
  const box = slice.bbox;
  const gate = `${formatProbability(slice.score)} (threshold ${formatProbability(threshold)})`;
  fillDefinitionList(list, [
    ['File', slice.name],
    ...(scoreName === 'P(tumour)'
      ? [['P(tumour)', gate] as [string, string]]
      : [
          ['P(tumour)', formatProbability(slice.probability)] as [string, string],
          [scoreName, gate] as [string, string],
        ]),
    ['Final mask', slice.tumour ? 'Tumour' : 'No tumour'],
    ["Classifier's call", slice.classifierCall ? 'Tumour' : 'No tumour'],
    ['Area', formatPixels(slice.areaPixels, 'pixel')],
    ['Box', box ? `${box.width}×${box.height} at (${box.x}, ${box.y})` : '—'],
  ]);
}

export function showPatientDetails(list: HTMLDListElement, patient: PatientSummary | undefined): void {
  if (!patient) {
    list.replaceChildren();
    return;
  }
  fillDefinitionList(list, [
    ['Patient', patient.patient],
    ['Slices', String(patient.slices)],
    [
      'With tumour',
      `${patient.positiveSlices} (${formatSliceRange(patient.firstPositiveSlice, patient.lastPositiveSlice)})`,
    ],
    ['Volume', formatPixels(patient.volumeVoxels, 'voxel')],
    ...patient.volumeSteps.map((step): [string, string] => ['Volume step', step]),
  ]);
}
