// The text beside the image: the current slice's figures and its patient's totals.
import type { PatientSummary, SlicePrediction } from './api-types.ts';
import { fillDefinitionList } from './dom.ts';
import { formatPixels, formatProbability, formatSliceRange } from './format.ts';

export function showSliceDetails(list: HTMLDListElement, slice: SlicePrediction, threshold: number): void {
  const box = slice.bbox;
  fillDefinitionList(list, [
    ['File', slice.name],
    ['P(tumour)', `${formatProbability(slice.probability)} (threshold ${formatProbability(threshold)})`],
    ['Call', slice.tumour ? 'Tumour' : 'No tumour'],
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
  ]);
}
