// A model's training log (log.jsonl, one line per epoch) lives beside its weights: as <base>.log.jsonl when the
// model was shipped under its own name (models/segmenter.safetensors + models/segmenter.log.jsonl, several models
// sharing one folder), or as log.jsonl in the training run's own folder (runs/x/best, models/cv/fold-0/segmenter/best).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseTrainingLog, type TrainingLogRecord } from '../eval/training-log.ts';

/** Where a model's log may be, in the order they are tried. */
export function trainingLogCandidates(base: string): string[] {
  return [`${base}.log.jsonl`, join(dirname(base), 'log.jsonl')];
}

/** The first log found beside the model; undefined when there is none or it is damaged (said through `warn`). */
export function readModelTrainingLog(
  base: string,
  warn: (line: string) => void,
): TrainingLogRecord[] | undefined {
  const path = trainingLogCandidates(base).find((p) => existsSync(p));
  if (path === undefined) return undefined;
  try {
    return parseTrainingLog(readFileSync(path, 'utf8'));
  } catch (err) {
    // A damaged log costs a figure, not the report.
    warn(`warning: ${path}: ${(err as Error).message}; its training curves are left out`);
    return undefined;
  }
}
