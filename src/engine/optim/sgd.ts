import { zerosLike } from '../creation.ts';
import { native } from '../native.ts';
import { keep } from '../scope.ts';
import type { Tensor } from '../tensor.ts';
import { loadStateTensors, Optimizer, type OptimizerState, type ParamGroupInput } from './optimizer.ts';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  #buffers: Tensor[];

  constructor(params: Tensor[] | ParamGroupInput[], options: SgdOptions) {
    super(params, { lr: options.lr, weightDecay: options.weightDecay ?? 0 });
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error('Nesterov momentum requires a momentum and zero dampening');
    }
    this.#buffers = this.momentum === 0 ? [] : this.params.map((p) => keep(zerosLike(p)));
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
      native.sgdStep(
        g.params.map((p) => p.handle),
        this.#buffers.slice(offset, offset + n).map((t) => t.handle),
        g.lr,
        this.momentum,
        this.dampening,
        g.weightDecay,
        this.nesterov,
        g.steps === 1,
      );
      offset += n;
    }
  }

  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    for (const [i, t] of this.#buffers.entries()) tensors.set(`momentum_buffer.${i}`, t);
    return { json: this.scalars(), tensors };
  }

  loadStateDict(state: OptimizerState): void {
    loadStateTensors('momentum_buffer', this.#buffers, state.tensors);
    this.restoreScalars(state);
  }

  dispose(): void {
    for (const t of this.#buffers) t.dispose();
  }
}
