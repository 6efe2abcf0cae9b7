// The two stages run in the page (in-browser inference): slices placed by name as the server places them, then
// the same prediction as the server's (src/inference/predict-slices.ts: the one core of predict, serve and
// evaluate), with the networks behind the page's runners (onnxruntime-web, src/export/onnx/onnx-runners.ts).
// Pure, so it runs, and is tested, in Node too.
import type { DecodedImage } from '../../src/data/image.ts';
import { placeSlices as placeSliceNames } from '../../src/data/slice-names.ts';
import {
  type Prediction,
  type PredictOptions,
  predictSlices,
  type SlicePrediction,
} from '../../src/inference/predict-slices.ts';
import type { TwoStageModels } from '../../src/inference/two-stage.ts';

export interface LocalSlice {
  /** The file name (path inside a zip included). */
  name: string;
  image: DecodedImage;
}

/** A slice's result with the image it came from (the page draws both). */
export interface LocalSlicePrediction extends SlicePrediction {
  image: DecodedImage;
}

export interface LocalPrediction extends Omit<Prediction, 'slices'> {
  slices: LocalSlicePrediction[];
}

/** Patient and slice number of each name, as the server places them; a ground-truth mask is refused. */
export function placeSlices(names: readonly string[]): { patient: string; sliceNumber: number }[] {
  return placeSliceNames(names, {
    maskError: (name) => new Error(`${name}: a ground-truth mask (…_mask), not a slice to predict`),
  });
}

export async function predictLocally(
  slices: readonly LocalSlice[],
  models: TwoStageModels,
  options: PredictOptions = {},
): Promise<LocalPrediction> {
  const places = placeSlices(slices.map((s) => s.name));
  const inputs = slices.map((slice, k) => ({
    // The name without folders, as the server reports it.
    name: slice.name.split(/[\\/]/).pop() || slice.name,
    image: slice.image,
    ...places[k]!,
  }));
  const prediction = await predictSlices(models, inputs, { batch: 8, ...options });
  const images = new Map(inputs.map((s) => [`${s.patient}\0${s.sliceNumber}`, s.image]));
  return {
    ...prediction,
    slices: prediction.slices.map((s) => ({ ...s, image: images.get(`${s.patient}\0${s.slice}`)! })),
  };
}
