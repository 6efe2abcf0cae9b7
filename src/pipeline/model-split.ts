// Which patients a saved model learnt from (its training and validation splits), so that an evaluation on them
// can warn that its figures are not held out. The model's config lists them (training.patients, saved by
// training), or names the split manifest it followed (training.split, training.fold): found by its file name
// beside the model or in a folder above it (runs/NAME/split.json beside runs/NAME/best, models/cv/split.json
// above models/cv/fold-K/segmenter/best), else as written.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { readSplitManifest, trainingPatients } from '../data/split-manifest.ts';

const trainingSchema = z.looseObject({
  split: z.string().min(1).optional(),
  fold: z.number().int().min(0).nullable().optional(),
  patients: z.strictObject({ train: z.array(z.string()), val: z.array(z.string()) }).optional(),
});

export interface ModelSplit {
  /** Where the patients were read: the model's config or a split manifest. */
  source: string;
  /** Its training and validation patients. */
  patients: ReadonlySet<string>;
}

/** Folders above the model searched for its manifest. */
const LEVELS_UP = 3;

/**
 * The manifest `split` names: by its file name beside the model `base` or in a folder above it (the copy that
 * travels with the model), else as written (relative to the working directory training ran in).
 */
function findManifest(split: string, base: string): string | undefined {
  let folder = dirname(base);
  for (let level = 0; level <= LEVELS_UP; level++) {
    const candidate = join(folder, basename(split));
    if (existsSync(candidate)) return candidate;
    folder = dirname(folder);
  }
  return existsSync(split) ? split : undefined;
}

/** The patients the model saved at `base` (config `config`) learnt from; undefined when its split is unknown. */
export function modelSplit(base: string, config: Readonly<Record<string, unknown>>): ModelSplit | undefined {
  const training = trainingSchema.safeParse(config['training']);
  if (!training.success) return undefined;
  const { patients, split, fold } = training.data;
  if (patients) return { source: `${base}.json`, patients: new Set([...patients.train, ...patients.val]) };
  const path = split === undefined ? undefined : findManifest(split, base);
  if (path === undefined) return undefined;
  try {
    const both = trainingPatients(readSplitManifest(path), fold ?? 0);
    return { source: path, patients: new Set([...both.train, ...both.val]) };
  } catch {
    // A manifest that no longer reads (or lacks the fold) tells nothing about this model.
    return undefined;
  }
}

/**
 * The warning an evaluation of `evaluated` patients owes its reader when the model `role` learnt from some of
 * them; undefined when none (or the model's split is unknown).
 */
export function trainedOnWarning(
  role: string,
  split: ModelSplit | undefined,
  evaluated: readonly string[],
): string | undefined {
  if (!split) return undefined;
  const seen = evaluated.filter((id) => split.patients.has(id));
  if (seen.length === 0) return undefined;
  const names = seen.slice(0, 3).join(', ') + (seen.length > 3 ? ', …' : '');
  return (
    `${seen.length} of the ${evaluated.length} evaluated patients (${names}) are in the ${role}'s training or ` +
    `validation split (${split.source}): its figures on them are not a held-out estimate`
  );
}
