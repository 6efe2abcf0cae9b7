// The numeric options both training stages share, checked before any data is read, so that a bad value fails at
// once and names the option instead of surfacing hours later as something else (a batch of 0 never advances,
// 0 epochs leave no best model to load, a size the network cannot halve fails inside its first forward pass).

export interface SharedTrainingOptions {
  epochs: number;
  batch: number;
  lr: number;
  size: number;
  seed: number;
  patience: number;
  fold?: number;
  /** Processes that train together (data-parallel); the batch is split between them. */
  processes?: number;
}

/** The input sizes a network takes: at least `min`, and a multiple of `multiple` (`why` says what needs it). */
export interface SizeRule {
  min: number;
  multiple: number;
  why: string;
}

/** Throws a RangeError naming the first option out of its range. */
export function checkTrainingOptions(o: SharedTrainingOptions, size: SizeRule): void {
  requireInteger('epochs', o.epochs, 1);
  requireInteger('batch', o.batch, 1);
  requireBatchSplit(o.batch, o.processes ?? 1);
  requirePositive('lr', o.lr);
  requireInteger('seed', o.seed, 0);
  if (o.patience !== Number.POSITIVE_INFINITY) requireInteger('patience', o.patience, 1);
  if (o.fold !== undefined) requireInteger('fold', o.fold, 0);
  requireInteger('size', o.size, 1);
  if (o.size < size.min || o.size % size.multiple !== 0) {
    const rule = size.multiple > 1 ? `a multiple of ${size.multiple}` : `at least ${size.min}`;
    throw new RangeError(`size must be ${rule} (${size.why}), got ${o.size}`);
  }
}

/** In data-parallel training each of the processes takes an equal part of every batch. */
export function requireBatchSplit(batch: number, processes: number): void {
  if (batch % processes !== 0)
    throw new RangeError(
      `batch must be a multiple of the ${processes} processes (each takes batch / processes), got ${batch}`,
    );
}

export function requireInteger(option: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`${option} must be an integer ≥ ${min}, got ${value}`);
}

export function requirePositive(option: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`${option} must be a number above 0, got ${value}`);
}
