// Training logs (log.jsonl, one JSON object a line, as src/train/fit.ts writes them) turned into long-format
// points for plotting: { "epoch": 3, "lr": 1e-4, "seconds": 610, "train_loss": 0.41, "val_loss": 0.52,
// "val_auc": 0.93 } gives train/loss, validation/loss and validation/auc at epoch 3.

export type TrainingLogRecord = Readonly<Record<string, unknown>>;

export type TrainingSplit = 'train' | 'validation';

export interface TrainingPoint {
  epoch: number;
  split: TrainingSplit;
  metric: string;
  value: number;
}

/** Parses log.jsonl text; blank lines are skipped, a malformed line throws with its line number. */
export function parseTrainingLog(text: string): TrainingLogRecord[] {
  const records: TrainingLogRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new SyntaxError(`log line ${i + 1}: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SyntaxError(`log line ${i + 1} is not a JSON object`);
    }
    records.push(value as TrainingLogRecord);
  });
  return records;
}

/** `train_<metric>` and `val_<metric>` keys; everything else (epoch, lr, seconds) is bookkeeping. */
const splitKey = /^(train|val)_(.+)$/;

export function trainingPoints(records: readonly TrainingLogRecord[]): TrainingPoint[] {
  const points = new Map<string, TrainingPoint>();
  for (const r of records) {
    const epoch = r['epoch'];
    if (typeof epoch !== 'number' || !Number.isFinite(epoch)) continue;
    for (const [key, value] of Object.entries(r)) {
      const match = splitKey.exec(key);
      if (match === null || typeof value !== 'number' || !Number.isFinite(value)) continue;
      const split: TrainingSplit = match[1] === 'train' ? 'train' : 'validation';
      // A resumed run may log an epoch again; the last line wins.
      points.set(`${epoch}\u0000${split}\u0000${match[2]}`, { epoch, split, metric: match[2]!, value });
    }
  }
  return [...points.values()].sort(
    (a, b) => a.metric.localeCompare(b.metric) || a.split.localeCompare(b.split) || a.epoch - b.epoch,
  );
}
