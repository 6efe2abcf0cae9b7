// log.jsonl: one JSON object per epoch, appended and flushed as each epoch ends, so that a crashed or running
// job can be plotted (the report reads these files, nnU-Net style).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface EpochRecord {
  epoch: number;
  lr: number;
  seconds: number;
  [metric: string]: number;
}

export function appendEpoch(path: string, record: EpochRecord): void {
  appendFileSync(path, `${JSON.stringify(record)}\n`);
}

export function readLog(path: string): EpochRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as EpochRecord;
      } catch {
        throw new Error(`${path}: line ${i + 1} is not JSON`);
      }
    });
}

/** Drops records after an epoch (a resumed run rewrites the epochs it repeats). */
export function truncateLog(path: string, lastEpoch: number): void {
  const kept = readLog(path).filter((r) => r.epoch <= lastEpoch);
  writeFileSync(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
}
