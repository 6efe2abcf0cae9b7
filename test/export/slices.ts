// Real MRI slices for the export and inference tests: the example patient committed under examples/, read and
// preprocessed the way the models see them (resize to the model size, then the config's intensity transform).
import { join } from 'node:path';
import { resizeBilinear, toRgb } from '../../src/data/image.ts';
import { type PreprocessConfig, preprocessSlice } from '../../src/data/preprocess.ts';
import { readTiff } from '../../src/data/read-image.ts';

const PATIENT = 'TCGA_DU_8167_19970402';
const DIR = join(import.meta.dirname, '../../examples', PATIENT);
/**
 * A tumour slice first (18), so that batch 1 gives a segmenter something to outline (a good model's output on an
 * empty slice is nearly constant, which proves nothing), then one without (10) and another with (22).
 */
const SLICES = [18, 10, 22];

/** Example slices 10, 14, 18 and 22 of the patient, in order, as a volume's RGB bytes (D×H×W×3) at `preprocess`'s size. */
export function realVolumeRgb(preprocess: PreprocessConfig): Uint8Array {
  const { width, height } = preprocess;
  const numbers = [10, 14, 18, 22];
  const out = new Uint8Array(numbers.length * width * height * 3);
  numbers.forEach((n, i) => {
    const image = toRgb(readTiff(join(DIR, `${PATIENT}_${n}.tif`)));
    out.set(resizeBilinear(image.data, image.width, image.height, 3, width, height), i * width * height * 3);
  });
  return out;
}

/** `count` preprocessed slices as one NCHW float32 batch (the slices repeat when count exceeds them). */
export function realSlices(preprocess: PreprocessConfig, count: number): Float32Array {
  const { width, height } = preprocess;
  const per = 3 * width * height;
  const out = new Float32Array(count * per);
  for (let i = 0; i < count; i++) {
    const image = toRgb(readTiff(join(DIR, `${PATIENT}_${SLICES[i % SLICES.length]}.tif`)));
    const rgb = resizeBilinear(image.data, image.width, image.height, 3, width, height);
    out.set(preprocessSlice(rgb, preprocess.intensity), i * per);
  }
  return out;
}
