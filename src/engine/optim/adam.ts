import { zerosLike } from '../creation.ts';
import { native } from '../native.ts';
import { keep } from '../scope.ts';
import type { Tensor } from '../tensor.ts';
import { loadStateTensors, Optimizer, type OptimizerState, type ParamGroupInput } from './optimizer.ts';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/**
 * Adam (L2 weight decay added to the gradient), as torch.optim.Adam. The update for all parameters runs in one
 * native call, with PyTorch 1.13's arithmetic, so that a step matches torch.optim to float rounding.
 */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  protected readonly decoupled: boolean = false;
  #expAvg: Tensor[];
  #expAvgSq: Tensor[];

  constructor(params: Tensor[] | ParamGroupInput[], options: AdamOptions = {}) {
    super(params, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 0 });
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.#expAvg = this.params.map((p) => keep(zerosLike(p)));
    this.#expAvgSq = this.params.map((p) => keep(zerosLike(p)));
  }

  step(): void {
    this.countStep();
    let offset = 0;
    for (const g of this.groups) {
      const n = g.params.length;
      if (g.frozen) {
        offset += n;
        continue;
      }
      native.adamStep(
        g.params.map((p) => p.handle),
        this.#expAvg.slice(offset, offset + n).map((t) => t.handle),
        this.#expAvgSq.slice(offset, offset + n).map((t) => t.handle),
        g.steps,
        g.lr,
        this.beta1,
        this.beta2,
        this.eps,
        g.weightDecay,
        this.decoupled,
      );
      offset += n;
    }
  }

  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    for (const [i, t] of this.#expAvg.entries()) tensors.set(`exp_avg.${i}`, t);
    for (const [i, t] of this.#expAvgSq.entries()) tensors.set(`exp_avg_sq.${i}`, t);
    return { json: this.scalars(), tensors };
  }

  loadStateDict(state: OptimizerState): void {
    loadStateTensors('exp_avg', this.#expAvg, state.tensors);
    loadStateTensors('exp_avg_sq', this.#expAvgSq, state.tensors);
    this.restoreScalars(state);
  }

  dispose(): void {
    for (const t of [...this.#expAvg, ...this.#expAvgSq]) t.dispose();
  }
}

/** AdamW: weight decay applied to the weights directly (decoupled), as torch.optim.AdamW (default decay 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled = true;

  constructor(params: Tensor[] | ParamGroupInput[], options: AdamOptions = {}) {
    super(params, { ...options, weightDecay: options.weightDecay ?? 0.01 });
  }
}
