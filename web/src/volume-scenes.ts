// What the planes and 3-D view show for a prediction: the NIfTI the user sent with the server's mask.nii.gz (same
// affine and grid); for DICOM series, which NiiVue cannot read, the volume the server read from them, sent back as
// NIfTI (include=volume) on the mask's grid; or, for slices, a volume stacked from the slices and their masks
// (volume-layout.ts).
import { SEQUENCE_NAMES, SEQUENCES, type Sequence } from '../../src/volume/patient-volume.ts';
import { isSeriesInput, type PredictInput } from './api.ts';
import type { PredictResponse, SlicePrediction } from './api-types.ts';
import { rgbaOfImage } from './dom.ts';
import { bytesOfDataUrl } from './exports.ts';
import { maskFromRgba } from './mask-overlay.ts';
import { axialAxisOf, type SlicePixels, volumeOfSlices } from './volume-layout.ts';
import type { VolumeScene, VolumeSource } from './volume-view.ts';

type VolumeResult = NonNullable<PredictResponse['volume']>;

/** A scene's sequences from one source holding the three as channels (a 4-D NIfTI, or RGB slices). */
function channelsOf(source: VolumeSource): Pick<VolumeScene, 'sequences' | 'initialSequence'> {
  return {
    sequences: SEQUENCES.map((s, frame) => ({ label: SEQUENCE_NAMES[s], source, frame })),
    initialSequence: SEQUENCES.indexOf('flair'),
  };
}

/** The volume(s) sent, under the mask the server answered with for them. */
export function sceneOfNifti(sent: PredictInput, volume: VolumeResult, patient: string): VolumeScene {
  const mask: VolumeSource = {
    kind: 'nifti',
    name: `${patient}_mask.nii.gz`,
    bytes: bytesOfDataUrl(volume.mask),
  };
  const axial = axialAxisOf(volume.orientation, volume.dims);
  if (isSeriesInput(sent)) {
    if (!volume.image)
      throw new Error('the server did not send back the volume it read from the DICOM series');
    const image: VolumeSource = {
      kind: 'nifti',
      name: `${patient}.nii.gz`,
      bytes: bytesOfDataUrl(volume.image),
    };
    // Its channels are pre, FLAIR and post; FLAIR fills a sequence not sent, which is not offered.
    const given = SEQUENCES.filter((s) => (sent.series?.[s]?.length ?? 0) > 0);
    return {
      sequences: given.map((s) => ({ label: SEQUENCE_NAMES[s], source: image, frame: SEQUENCES.indexOf(s) })),
      initialSequence: given.indexOf('flair'),
      mask,
      axial,
    };
  }
  const whole = sent.files[0];
  if (whole) return { ...channelsOf({ kind: 'file', file: whole }), mask, axial };
  const given = SEQUENCES.filter((s): s is Sequence => sent.sequences?.[s] !== undefined);
  return {
    sequences: given.map((s) => ({
      label: SEQUENCE_NAMES[s],
      source: { kind: 'file', file: sent.sequences![s]! },
      frame: 0,
    })),
    initialSequence: given.indexOf('flair'),
    mask,
    axial,
  };
}

async function pixelsOf(slice: SlicePrediction): Promise<SlicePixels> {
  const { name, width, height } = slice;
  if (!slice.image) throw new Error(`${name}: the answer has no image of the slice to stack`);
  const [rgba, mask] = await Promise.all([
    rgbaOfImage(slice.image, width, height),
    slice.mask ? rgbaOfImage(slice.mask, width, height) : null,
  ]);
  return { name, width, height, rgba, mask: mask && maskFromRgba(mask, width, height) };
}

/**
 * One patient's slices (in slice order) stacked into a volume of 1 mm voxels, their masks into another: slice
 * k of the list is voxel index k along the axial axis.
 */
export async function sceneOfSlices(
  slices: readonly SlicePrediction[],
  patient: string,
): Promise<VolumeScene> {
  const volume = volumeOfSlices(await Promise.all(slices.map(pixelsOf)));
  const dims = volume.dims;
  const source: VolumeSource = {
    kind: 'voxels',
    name: `${patient}.nii`,
    dims: [...dims, 3],
    affine: volume.affine,
    data: volume.channels,
  };
  const mask: VolumeSource = {
    kind: 'voxels',
    name: `${patient}_mask.nii`,
    dims,
    affine: volume.affine,
    data: volume.mask,
  };
  return { ...channelsOf(source), mask, axial: volume.axial };
}
