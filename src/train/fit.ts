// The epoch loop shared by both stages: train, validate, log, keep the best model, checkpoint, stop early,
// resume. What an epoch does is the caller's (trainEpoch / validate); this file owns the bookkeeping. In
// data-parallel training every rank runs this loop; rank 0 alone validates, reads and writes the run folder, and
// tells the others what it found.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type LrScheduler, type Module, manualSeed, type Optimizer, saveModel } from '../engine/index.ts';
import { type CheckpointMeta, hasCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import type { DataParallel } from './data-parallel.ts';
import { appendEpoch, type EpochRecord, truncateLog } from './run-log.ts';
import { requireInteger } from './training-options.ts';

/**
 * A training loss that is NaN or infinite: the weights are lost and every later epoch would be too, so the run
 * stops before saving that epoch (its checkpoint and best model stay those of the last sound epoch).
 */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  constructor(
    readonly epoch: number,
    readonly metric: string,
    readonly value: number,
    where = `epoch ${epoch}`,
  ) {
    super(
      `training diverged in ${where}: ${metric} is ${value}; the run stopped without saving epoch ${epoch} ` +
        '(a lower learning rate usually helps)',
    );
  }
}

export interface FitOptions {
  runDir: string;
  epochs: number;
  seed: number;
  model: Module;
  optimizer: Optimizer;
  scheduler?: LrScheduler;
  /** Called after the model is put in training mode, before each epoch trains (e.g. to freeze a backbone). */
  beforeEpoch?: (epoch: number) => void;
  /** Runs one training epoch; returns its metrics (e.g. { loss }). */
  trainEpoch: (epoch: number) => Record<string, number>;
  /** Runs validation; returns its metrics (e.g. { val_loss, val_auc }). */
  validate: (epoch: number) => Record<string, number>;
  /** The validation metric that picks the best epoch and drives early stopping and ReduceLROnPlateau. */
  monitor: string;
  mode: 'min' | 'max';
  /** Epochs without improvement before stopping (Infinity: never). */
  patience?: number;
  resume?: boolean;
  /** The config saved beside the best weights (architecture, preprocessing, ...); best epoch and score added. */
  modelConfig: Record<string, unknown>;
  log?: (line: string) => void;
  /** Data-parallel training: this rank's part (the model and optimiser must be this rank's too). */
  parallel?: DataParallel;
}

export interface FitResult {
  bestEpoch: number;
  bestScore: number;
  epochsRun: number;
  stoppedEarly: boolean;
}

interface LoopState extends Record<string, unknown> {
  bestEpoch: number;
  bestScore: number;
  badEpochs: number;
}

export function fit(o: FitOptions): FitResult {
  const parallel = o.parallel;
  const writes = parallel?.isRank0 ?? true;
  if (writes) mkdirSync(o.runDir, { recursive: true });
  const log = o.log ?? ((line: string) => console.log(line));
  const logPath = join(o.runDir, 'log.jsonl');
  const patience = o.patience ?? Number.POSITIVE_INFINITY;
  requireInteger('epochs', o.epochs, 1); // with none there is no best model to save
  if (patience !== Number.POSITIVE_INFINITY) requireInteger('patience', patience, 1);
  let state: LoopState = {
    bestEpoch: 0,
    bestScore: o.mode === 'max' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
    badEpochs: 0,
  };
  let start = 1;
  const resumeFrom = () =>
    o.resume && hasCheckpoint(o.runDir) ? loadCheckpoint(o.runDir, o.model, o.optimizer) : null;
  const meta: CheckpointMeta | null = parallel
    ? parallel.group.fromRank0('checkpoint', resumeFrom)
    : resumeFrom();
  if (meta) {
    if (parallel) resumeFromRank0(parallel, o.optimizer, meta);
    if (meta.scheduler && o.scheduler) o.scheduler.loadStateDict(meta.scheduler);
    state = meta.loop as LoopState;
    start = meta.epoch + 1;
    if (writes) truncateLog(logPath, meta.epoch);
    log(
      `resumed ${o.runDir} after epoch ${meta.epoch} (best ${o.monitor} ${state.bestScore} at epoch ${state.bestEpoch})`,
    );
  } else if (writes) {
    truncateLog(logPath, 0);
  }
  let epoch = start;
  let stoppedEarly = false;
  for (; epoch <= o.epochs; epoch++) {
    // Reseeding per epoch makes a resumed run draw the same random numbers as an uninterrupted one.
    manualSeed(o.seed * 100_003 + epoch);
    const started = performance.now();
    const lr = o.optimizer.lr;
    o.model.train();
    o.beforeEpoch?.(epoch);
    const trainMetrics = o.trainEpoch(epoch);
    for (const [metric, value] of Object.entries(trainMetrics))
      if (!Number.isFinite(value)) throw new TrainingDivergedError(epoch, metric, value);
    o.model.eval();
    const valMetrics = parallel
      ? parallel.group.fromRank0('validation', () => o.validate(epoch))
      : o.validate(epoch);
    const score = valMetrics[o.monitor];
    if (score === undefined || Number.isNaN(score)) throw new Error(`validation did not report ${o.monitor}`);
    const improved = o.mode === 'max' ? score > state.bestScore : score < state.bestScore;
    if (improved) {
      state = { bestEpoch: epoch, bestScore: score, badEpochs: 0 };
      if (writes)
        saveModel(join(o.runDir, 'best'), o.model, {
          ...o.modelConfig,
          bestEpoch: epoch,
          [o.monitor]: score,
        });
    } else {
      state.badEpochs += 1;
    }
    if (o.scheduler) o.scheduler.step(score);
    const record: EpochRecord = {
      epoch,
      lr,
      seconds: (performance.now() - started) / 1000,
      ...trainMetrics,
      ...valMetrics,
    };
    if (writes) appendEpoch(logPath, record);
    log(`epoch ${epoch}/${o.epochs} ${formatMetrics(record)}${improved ? ' *' : ''}`);
    if (writes)
      saveCheckpoint(o.runDir, epoch, o.model, o.optimizer, o.scheduler?.stateDict() ?? null, state);
    if (state.badEpochs >= patience) {
      stoppedEarly = true;
      log(`early stop: no better ${o.monitor} for ${patience} epochs`);
      epoch += 1;
      break;
    }
  }
  return { bestEpoch: state.bestEpoch, bestScore: state.bestScore, epochsRun: epoch - 1, stoppedEarly };
}

/**
 * Rank 0 has loaded the checkpoint into its model and optimiser; the others take its optimiser scalars from the
 * message and every tensor by broadcast, so that only rank 0 needs the run folder.
 */
function resumeFromRank0(parallel: DataParallel, optimizer: Optimizer, meta: CheckpointMeta): void {
  const own = optimizer.stateDict();
  if (!parallel.isRank0) optimizer.loadStateDict({ json: meta.optimizer, tensors: own.tensors });
  parallel.broadcastFromRank0([...own.tensors.values()]);
}

function formatMetrics(r: EpochRecord): string {
  return Object.entries(r)
    .filter(([k]) => k !== 'epoch')
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join('  ');
}
