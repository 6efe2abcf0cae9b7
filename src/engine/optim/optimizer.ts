// The optimiser base: parameter groups with their own learning rate and weight decay, grad clearing, and a state
// dict (tensors + JSON) so that training resumes exactly where a checkpoint left it.
import { native } from '../native.ts';
import type { Tensor } from '../tensor.ts';

export interface ParamGroup {
  params: Tensor[];
  lr: number;
  weightDecay: number;
  /** The learning rate the group started with; schedulers scale from it. */
  initialLr: number;
}

export type ParamGroupInput = { params: Tensor[]; lr?: number; weightDecay?: number };

export interface OptimizerState {
  /** Scalars: step counts, learning rates. */
  json: { step: number; lrs: number[]; [k: string]: unknown };
  /** Per-parameter state tensors, keyed '<name>.<param index>'. */
  tensors: Map<string, Tensor>;
}

export abstract class Optimizer {
  readonly groups: ParamGroup[];
  stepCount = 0;

  constructor(params: Tensor[] | ParamGroupInput[], defaults: { lr: number; weightDecay: number }) {
    const inputs: ParamGroupInput[] = isGroupList(params) ? params : [{ params }];
    this.groups = inputs.map((g) => {
      const lr = g.lr ?? defaults.lr;
      return { params: g.params, lr, initialLr: lr, weightDecay: g.weightDecay ?? defaults.weightDecay };
    });
    const seen = new Set<Tensor>();
    for (const p of this.groups.flatMap((g) => g.params)) {
      if (seen.has(p)) throw new Error('a parameter appears in more than one group');
      seen.add(p);
    }
  }

  /** Every parameter, in group order (the order of the state tensors). */
  get params(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /** Drops every gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    native.zeroGrads(this.params.map((p) => p.handle));
  }

  /** Sets one learning rate for every group (schedulers with several groups scale each from its initialLr). */
  set lr(value: number) {
    for (const g of this.groups) g.lr = value;
  }
  get lr(): number {
    return this.groups[0]?.lr ?? 0;
  }

  protected scalars(): OptimizerState['json'] {
    return { step: this.stepCount, lrs: this.groups.map((g) => g.lr) };
  }

  protected restoreScalars(state: OptimizerState): void {
    if (state.json.lrs.length !== this.groups.length) {
      throw new Error(
        `optimizer state has ${state.json.lrs.length} parameter groups, this optimizer ${this.groups.length}`,
      );
    }
    this.stepCount = state.json.step;
    state.json.lrs.forEach((lr, i) => {
      this.groups[i]!.lr = lr;
    });
  }

  abstract step(): void;
  abstract stateDict(): OptimizerState;
  abstract loadStateDict(state: OptimizerState): void;
  /** Frees the optimiser's state tensors. */
  abstract dispose(): void;
}

function isGroupList(p: Tensor[] | ParamGroupInput[]): p is ParamGroupInput[] {
  return p.length > 0 && 'params' in (p[0] as object) && Array.isArray((p[0] as ParamGroupInput).params);
}

/** Loads saved per-parameter tensors into existing ones, checking names and shapes. */
export function loadStateTensors(kind: string, targets: Tensor[], saved: Map<string, Tensor>): void {
  targets.forEach((t, i) => {
    const src = saved.get(`${kind}.${i}`);
    if (src === undefined) throw new Error(`optimizer state: missing ${kind}.${i}`);
    if (src.shape.join() !== t.shape.join()) {
      throw new Error(
        `optimizer state: ${kind}.${i} has shape [${src.shape}] but the parameter has [${t.shape}]`,
      );
    }
    t.copy_(src);
  });
}
