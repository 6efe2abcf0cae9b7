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
  /** Steps this group took part in: a frozen group does not count (PyTorch keeps a step per parameter). */
  steps: number;
  /** Frozen: its parameters need no gradient and are not updated (see setFrozen). */
  frozen: boolean;
}

export type ParamGroupInput = { params: Tensor[]; lr?: number; weightDecay?: number };

export interface OptimizerState {
  /** Scalars: step counts, learning rates. */
  json: { step: number; lrs: number[]; groupSteps?: number[]; [k: string]: unknown };
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
      const weightDecay = g.weightDecay ?? defaults.weightDecay;
      return { params: g.params, lr, initialLr: lr, weightDecay, steps: 0, frozen: false };
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

  /**
   * Freezes a group (fine-tuning with a frozen backbone, or a head warm-up) or thaws it: its parameters stop or
   * start requiring gradients, so that backward skips them and the update leaves them alone. A thawed group's
   * Adam bias correction starts where its own steps left off, as PyTorch's per-parameter step does.
   */
  setFrozen(group: number, frozen: boolean): void {
    const g = this.groups[group];
    if (g === undefined) throw new RangeError(`no parameter group ${group} (${this.groups.length} groups)`);
    g.frozen = frozen;
    for (const p of g.params) p.requiresGrad_(!frozen);
    if (frozen) native.zeroGrads(g.params.map((p) => p.handle));
  }

  /** Counts one step, overall and for every group that is not frozen. */
  protected countStep(): void {
    this.stepCount += 1;
    for (const g of this.groups) if (!g.frozen) g.steps += 1;
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
    return {
      step: this.stepCount,
      lrs: this.groups.map((g) => g.lr),
      groupSteps: this.groups.map((g) => g.steps),
    };
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
      // States saved before groups counted their own steps: every group took every step.
      this.groups[i]!.steps = state.json.groupSteps?.[i] ?? state.json.step;
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
