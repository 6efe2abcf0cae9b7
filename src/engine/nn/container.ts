import type { Tensor } from '../tensor.ts';
import { Module } from './module.ts';

/**
 * Modules applied in order. Children are named '0', '1', ... or, given entries, by name (torchvision's
 * DenseNet names its layers 'conv0', 'norm0', 'denseblock1', ... and the state-dict keys follow).
 */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...modules: Module[] | [Array<[string, Module]>]) {
    super();
    const first = modules[0];
    const entries: Array<[string, Module]> = Array.isArray(first)
      ? first
      : (modules as Module[]).map((m, i) => [String(i), m]);
    this.layers = entries.map(([name, m]) => this.registerModule(name, m));
  }

  /** Appends a named module (builders that grow a network block by block). */
  add(name: string, m: Module): this {
    this.layers.push(this.registerModule(name, m));
    return this;
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (const layer of this.layers) {
      const next = layer.forward(out);
      // Free each intermediate once the next layer has consumed it, so that inference holds one activation at a
      // time as PyTorch does by reference counting (instead of all of them until the tidy scope ends); autograd
      // keeps whatever backward needs by itself. A layer may hand back its input (in-place ReLU, Identity).
      if (out !== x && next !== out) out.dispose();
      out = next;
    }
    return out;
  }
}

/** A list of modules registered under '0', '1', ...; forward is up to the owner. */
export class ModuleList extends Module {
  readonly items: Module[];

  constructor(modules: Module[] = []) {
    super();
    this.items = modules.map((m, i) => this.registerModule(String(i), m));
  }

  push(m: Module): void {
    this.items.push(this.registerModule(String(this.items.length), m));
  }

  forward(): Tensor {
    throw new Error('ModuleList has no forward(); iterate over its items');
  }
}
