// Module: the base of every layer and network, as torch.nn.Module. A module owns named parameters (trainable
// tensors), buffers (state such as batch-norm statistics) and child modules; their dotted names form the keys of
// the state dict, so weights saved by PyTorch load by name.
import { noGrad } from '../autograd.ts';
import { keep } from '../scope.ts';
import type { Tensor } from '../tensor.ts';

export type StateDict = Map<string, Tensor>;

export class StateDictError extends Error {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: string[],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys: ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(', ')}`);
    if (mismatched.length) parts.push(`shape or dtype mismatch: ${mismatched.join('; ')}`);
    super(`loadStateDict: ${parts.join(' | ')}`);
    this.name = 'StateDictError';
  }
}

export interface LoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
}

export abstract class Module {
  training = true;
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, { tensor: Tensor; persistent: boolean }>();
  readonly #children = new Map<string, Module>();

  abstract forward(...inputs: Tensor[]): Tensor;

  protected registerParameter(name: string, t: Tensor): Tensor {
    this.#checkName(name);
    if (!t.requiresGrad) t.requiresGrad_(true);
    this.#parameters.set(name, keep(t));
    return t;
  }

  /** Non-trainable state; persistent buffers go into the state dict (as PyTorch's running_mean/var). */
  protected registerBuffer(name: string, t: Tensor, persistent = true): Tensor {
    this.#checkName(name);
    this.#buffers.set(name, { tensor: keep(t), persistent });
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#checkName(name);
    this.#children.set(name, m);
    return m;
  }

  #checkName(name: string): void {
    if (name === '' || name.includes('.')) throw new Error(`invalid member name '${name}'`);
    if (this.#parameters.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new Error(`'${name}' is already registered on ${this.constructor.name}`);
    }
  }

  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  /** This module and every descendant, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.#children)
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.#parameters) out.push([prefix ? `${prefix}.${name}` : name, p]);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(options: { persistentOnly?: boolean } = {}): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.#buffers) {
        if (options.persistentOnly && !b.persistent) continue;
        out.push([prefix ? `${prefix}.${name}` : name, b.tensor]);
      }
    }
    return out;
  }

  /** Number of trainable elements (parameters only, as torchvision counts). */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Parameters and persistent buffers by dotted name, in registration order: live tensors, not copies. */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const [prefix, m] of this.namedModules()) {
      const key = (name: string) => (prefix ? `${prefix}.${name}` : name);
      for (const [name, p] of m.#parameters) out.set(key(name), p);
      for (const [name, b] of m.#buffers) if (b.persistent) out.set(key(name), b.tensor);
    }
    return out;
  }

  /**
   * Copies tensors into this module's parameters and buffers by name. Strict mode (the default) refuses missing or
   * unexpected keys; shapes must always match. Every problem is reported at once, and nothing is copied if any is
   * found.
   */
  loadStateDict(state: ReadonlyMap<string, Tensor>, options: { strict?: boolean } = {}): LoadReport {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [k, target] of own) {
      const src = state.get(k);
      if (src === undefined) continue;
      if (src.shape.join() !== target.shape.join()) {
        mismatched.push(`${k}: checkpoint [${src.shape.join(', ')}] vs model [${target.shape.join(', ')}]`);
      }
    }
    if (mismatched.length || (strict && (missing.length || unexpected.length))) {
      throw new StateDictError(strict ? missing : [], strict ? unexpected : [], mismatched);
    }
    const loaded: string[] = [];
    noGrad(() => {
      for (const [k, target] of own) {
        const src = state.get(k);
        if (src === undefined) continue;
        target.copy_(src);
        loaded.push(k);
      }
    });
    return { loaded, missing, unexpected };
  }

  /** Moves (or converts) every parameter and buffer in place; the tensor objects keep their identity. */
  to(target: string): this {
    noGrad(() => {
      for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) {
        const moved = t.to(target);
        const grad = t.requiresGrad;
        t.replaceWith(moved);
        if (grad) t.requiresGrad_(true);
      }
    });
    return this;
  }

  /**
   * Lays every 4-d parameter and buffer (convolution weights) out channels-last, in place, as PyTorch's
   * model.to(memory_format=torch.channels_last): convolutions then compute and return channels-last activations
   * whatever the input's layout, which spares oneDNN a reorder of each input, output and gradient (faster
   * inference and training).
   */
  toChannelsLast(): this {
    noGrad(() => {
      for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) {
        if (t.ndim !== 4 || t.isChannelsLast) continue;
        const grad = t.requiresGrad;
        t.replaceWith(t.contiguous('channels_last'));
        if (grad) t.requiresGrad_(true);
      }
    });
    return this;
  }

  /** Frees every parameter and buffer now. */
  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.dispose();
  }
}
