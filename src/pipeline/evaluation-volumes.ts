// The two stages over an evaluation's decoded slices, patient volume by patient volume, through the core every
// inference path shares (src/inference/two-stage.ts), with the truth beside them. Each cache holds the evaluated
// slices at one model input size; masks are compared with the truth at the segmenter's size. Besides the final
// output, the segmenter alone runs on the true tumour slices (its own score). Slices are reduced to
// SliceRecords patient by patient, so that no volume's masks outlive it.
import { patientVolumes } from '../data/group-by-patient.ts';
import type { SliceCache } from '../data/slice-cache.ts';
import { type SliceRecord, toSliceRecord } from '../eval/slices.ts';
import { progress } from '../inference/progress.ts';
import { type TwoStageModels, twoStageVolume, type VolumeImages } from '../inference/two-stage.ts';
import type { FusionConfig } from '../postprocess/fusion.ts';
import { sizeKey } from './evaluation-data.ts';

type Log = (line: string) => void;

/** One patient's cache positions as the core sees a volume: its slices' bytes at whichever size is asked for. */
export function cacheVolume(
  caches: ReadonlyMap<string, SliceCache>,
  volume: readonly number[],
): VolumeImages {
  return {
    depth: volume.length,
    rgb(width, height) {
      const cache = caches.get(sizeKey({ width, height }));
      if (!cache) throw new RangeError(`no slices decoded at ${width}×${height}`);
      const size = width * height * 3;
      const out = new Uint8Array(volume.length * size);
      volume.forEach((i, k) => {
        out.set(cache.images.subarray(i * size, (i + 1) * size), k * size);
      });
      return out;
    },
  };
}

/** The true mask of cache slice `i`. */
export function trueMask(cache: SliceCache, i: number): Uint8Array {
  const pixels = cache.width * cache.height;
  return cache.masks!.subarray(i * pixels, (i + 1) * pixels);
}

export interface PipelineRecords {
  /** One record per slice, patient by patient (in the order of the indices within each patient). */
  records: SliceRecord[];
  /** The final output of each true tumour slice (by cache index), for the report's gallery. */
  tumourFinalMasks: Map<number, Uint8Array>;
}

export interface PipelineRecordOptions {
  batch: number;
  fusion: FusionConfig;
  log: Log;
}

/**
 * Both stages on the slices `indices` of the caches, patient by patient, each slice reduced to a SliceRecord at
 * once; only the final masks of true tumour slices are kept (the gallery shows those).
 */
export async function pipelineRecords(
  models: TwoStageModels,
  caches: ReadonlyMap<string, SliceCache>,
  indices: readonly number[],
  o: PipelineRecordOptions,
): Promise<PipelineRecords> {
  const { width, height } = models.segmenter.preprocess;
  const truthCache = caches.get(sizeKey({ width, height }))!;
  const pixels = width * height;
  const records: SliceRecord[] = [];
  const tumourFinalMasks = new Map<number, Uint8Array>();
  const volumes = patientVolumes(indices, truthCache);
  const bar = progress('two stages (patients)', volumes.length, o.log, 1);
  for (const volume of volumes) {
    const tumour = volume.map((i) => truthCache.tumourPixels[i]! > 0);
    const outcome = await twoStageVolume(models, cacheVolume(caches, volume), {
      batch: o.batch,
      fusion: o.fusion,
      aloneOn: tumour,
    });
    volume.forEach((i, k) => {
      const slice = truthCache.slices[i]!;
      const at = (mask: Uint8Array) => mask.subarray(k * pixels, (k + 1) * pixels);
      records.push(
        toSliceRecord({
          patient: slice.patientId,
          slice: slice.sliceNumber,
          score: outcome.probability[k]!,
          trueMask: trueMask(truthCache, i),
          segmenterMask: tumour[k] ? at(outcome.alone!) : undefined,
          finalMask: at(outcome.final),
        }),
      );
      // A copy, so the map does not keep the whole volume alive.
      if (tumour[k]) tumourFinalMasks.set(i, at(outcome.final).slice());
    });
    bar.tick();
  }
  bar.stop();
  return { records, tumourFinalMasks };
}
