// Learning-rate schedules, stepped once per epoch (as torch.optim.lr_scheduler). Each scales every parameter
// group from its initialLr, and saves its position as JSON for resuming.
import type { Optimizer } from './optimizer.ts';

export interface LrScheduler {
  /** Advances one epoch; ReduceLROnPlateau takes the monitored validation value. */
  step(metric?: number): void;
  stateDict(): Record<string, number>;
  loadStateDict(state: Record<string, number>): void;
}

abstract class EpochScheduler implements LrScheduler {
  epoch = 0;
  constructor(protected readonly optimizer: Optimizer) {}
  protected abstract factor(epoch: number): number;
  step(): void {
    this.epoch += 1;
    this.apply();
  }
  protected apply(): void {
    const f = this.factor(this.epoch);
    for (const g of this.optimizer.groups) g.lr = this.lrFor(g.initialLr, f);
  }
  protected lrFor(initialLr: number, factor: number): number {
    return initialLr * factor;
  }
  stateDict(): Record<string, number> {
    return { epoch: this.epoch };
  }
  loadStateDict(state: Record<string, number>): void {
    this.epoch = state['epoch'] ?? 0;
    this.apply();
  }
}

/** lr × gamma^⌊epoch / stepSize⌋. */
export class StepLR extends EpochScheduler {
  constructor(
    optimizer: Optimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
  }
  protected factor(epoch: number): number {
    return this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** Cosine from the initial lr down to etaMin over tMax epochs (the closed form of CosineAnnealingLR). */
export class CosineAnnealingLR extends EpochScheduler {
  constructor(
    optimizer: Optimizer,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
  }
  protected factor(epoch: number): number {
    return (1 + Math.cos((Math.PI * Math.min(epoch, this.tMax)) / this.tMax)) / 2;
  }
  protected override lrFor(initialLr: number, factor: number): number {
    return this.etaMin + (initialLr - this.etaMin) * factor;
  }
}

/** Linear warm-up from startFactor × lr to lr over warmupEpochs, then constant. */
export class WarmupLR extends EpochScheduler {
  constructor(
    optimizer: Optimizer,
    readonly warmupEpochs: number,
    readonly startFactor = 0.1,
  ) {
    super(optimizer);
    this.apply();
  }
  protected factor(epoch: number): number {
    if (epoch >= this.warmupEpochs) return 1;
    return this.startFactor + ((1 - this.startFactor) * epoch) / this.warmupEpochs;
  }
}

export interface PlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  /** Relative improvement needed to count as better (PyTorch's threshold_mode 'rel'). */
  threshold?: number;
  cooldown?: number;
  minLr?: number;
}

/** Multiplies the lr by factor when the monitored value has not improved for patience epochs. */
export class ReduceLROnPlateau implements LrScheduler {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly cooldown: number;
  readonly minLr: number;
  best: number;
  badEpochs = 0;
  cooldownLeft = 0;

  constructor(
    private readonly optimizer: Optimizer,
    o: PlateauOptions = {},
  ) {
    this.mode = o.mode ?? 'min';
    this.factor = o.factor ?? 0.1;
    if (this.factor >= 1) throw new RangeError('ReduceLROnPlateau factor must be < 1');
    this.patience = o.patience ?? 10;
    this.threshold = o.threshold ?? 1e-4;
    this.cooldown = o.cooldown ?? 0;
    this.minLr = o.minLr ?? 0;
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  #isBetter(value: number): boolean {
    return this.mode === 'min'
      ? value < this.best * (1 - this.threshold)
      : value > this.best * (1 + this.threshold);
  }

  step(metric?: number): void {
    if (metric === undefined || Number.isNaN(metric))
      throw new Error('ReduceLROnPlateau.step needs the monitored value');
    if (this.#isBetter(metric)) {
      this.best = metric;
      this.badEpochs = 0;
    } else {
      this.badEpochs += 1;
    }
    if (this.cooldownLeft > 0) {
      this.cooldownLeft -= 1;
      this.badEpochs = 0;
    }
    if (this.badEpochs > this.patience) {
      for (const g of this.optimizer.groups) g.lr = Math.max(g.lr * this.factor, this.minLr);
      this.cooldownLeft = this.cooldown;
      this.badEpochs = 0;
    }
  }

  stateDict(): Record<string, number> {
    return { best: this.best, badEpochs: this.badEpochs, cooldownLeft: this.cooldownLeft };
  }

  loadStateDict(state: Record<string, number>): void {
    this.best = state['best'] ?? this.best;
    this.badEpochs = state['badEpochs'] ?? 0;
    this.cooldownLeft = state['cooldownLeft'] ?? 0;
  }
}
