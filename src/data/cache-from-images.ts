// A slice cache built from images already in memory (uploads, or files the caller decoded), resized to a model's
// input exactly as loadSlices resizes files (grayscale to RGB, then bilinear), so that prediction on them sees
// the same pixels as evaluation on the same files. Synchronous: no file is read.
import type { SliceRef } from './dataset-index.ts';
import { type DecodedImage, resizeBilinear, toRgb } from './image.ts';
import type { SliceCache } from './slice-cache.ts';

export interface InMemorySlice {
  /** Names the slice in SliceRef.imagePath (there is no file). */
  name: string;
  patient: string;
  sliceNumber: number;
  image: DecodedImage;
}

/**
 * A cache of the slices in the order given, at width × height, without masks. The caller orders them patient by
 * patient (a cache holds each patient's slices contiguously: volume statistics and patient groups rely on it).
 */
export function cacheFromImages(slices: readonly InMemorySlice[], width: number, height: number): SliceCache {
  const pixels = width * height;
  const images = new Uint8Array(slices.length * pixels * 3);
  const patients: string[] = [];
  const patientIndex = new Uint32Array(slices.length);
  const refs: SliceRef[] = [];
  const noteCounts = new Map<string, number>();
  slices.forEach((slice, k) => {
    const rgb = toRgb(slice.image);
    images.set(resizeBilinear(rgb.data, rgb.width, rgb.height, 3, width, height), k * pixels * 3);
    if (patients[patients.length - 1] !== slice.patient) {
      if (patients.includes(slice.patient)) {
        throw new Error(`${slice.name}: patient ${slice.patient}'s slices are not contiguous in the input`);
      }
      patients.push(slice.patient);
    }
    patientIndex[k] = patients.length - 1;
    refs.push({ patientId: slice.patient, sliceNumber: slice.sliceNumber, imagePath: slice.name });
    if (rgb.width !== width || rgb.height !== height) {
      const note = `resized from ${rgb.width}×${rgb.height} to ${width}×${height}`;
      noteCounts.set(note, (noteCounts.get(note) ?? 0) + 1);
    }
  });
  return {
    width,
    height,
    count: slices.length,
    images,
    masks: undefined,
    slices: refs,
    tumourPixels: new Uint32Array(slices.length),
    patients,
    patientIndex,
    notes: [...noteCounts].map(([note, n]) => `${note}: ${n} slice${n === 1 ? '' : 's'}`),
    problems: [],
  };
}
