// Training logs (log.jsonl, one JSON object a line) turned into long-format points for plotting. The trainer's
// log format is not fixed yet, so three shapes are read; each line needs a numeric `epoch`, other lines are
// skipped:
//   { "epoch": 3, "split": "train", "loss": 0.41, "dice": 0.7 }        ("phase" works as well as "split")
//   { "epoch": 3, "train": { "loss": 0.41 }, "val": { "loss": 0.52 } }  ("validation" works as well as "val")
//   { "epoch": 3, "train_loss": 0.41, "val_loss": 0.52 }               ("trainLoss", "val/loss", "val.loss" too)
// When several lines give the same epoch, split and metric, the last one wins (the epoch summary comes last).

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

function splitName(name: unknown): TrainingSplit | undefined {
  if (name === 'train' || name === 'training') return 'train';
  if (name === 'val' || name === 'valid' || name === 'validation') return 'validation';
  return undefined;
}

/** Keys that describe the record rather than measure the model. */
const bookkeeping =
  /^(epoch|step|iter|iteration|batch|split|phase|time|timestamp|elapsed|seconds|wall|lr|learning_?rate)/i;

const prefixed = /^(train|training|val|valid|validation)(?:[_./]([A-Za-z].*)|([A-Z].*))$/;

function numericEntries(obj: Readonly<Record<string, unknown>>): [string, number][] {
  return Object.entries(obj).filter(
    (e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]),
  );
}

export function trainingPoints(records: readonly TrainingLogRecord[]): TrainingPoint[] {
  const points = new Map<string, TrainingPoint>();
  const add = (epoch: number, split: TrainingSplit, metric: string, value: number) => {
    points.set(`${epoch}\u0000${split}\u0000${metric}`, { epoch, split, metric, value });
  };
  for (const r of records) {
    const epoch = r['epoch'];
    if (typeof epoch !== 'number' || !Number.isFinite(epoch)) continue;
    const ownSplit = splitName(r['split'] ?? r['phase']);
    for (const [key, value] of Object.entries(r)) {
      const nestedSplit = splitName(key);
      if (nestedSplit !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value)) {
        for (const [metric, v] of numericEntries(value as Record<string, unknown>))
          add(epoch, nestedSplit, metric, v);
      }
    }
    for (const [key, value] of numericEntries(r)) {
      const match = prefixed.exec(key);
      if (match !== null) {
        const metric = match[2] ?? `${match[3]!.charAt(0).toLowerCase()}${match[3]!.slice(1)}`;
        add(epoch, splitName(match[1]) ?? 'train', metric, value);
      } else if (ownSplit !== undefined && !bookkeeping.test(key)) {
        add(epoch, ownSplit, key, value);
      }
    }
  }
  return [...points.values()].sort(
    (a, b) => a.metric.localeCompare(b.metric) || a.split.localeCompare(b.split) || a.epoch - b.epoch,
  );
}
