import { empty } from '../empty.ts';
import * as F from '../functional.ts';
import type { Tensor } from '../tensor.ts';
import { kaimingUniform_, uniform_ } from './init.ts';
import { Module } from './module.ts';

/** y = x Wᵀ + b, initialised as PyTorch's Linear. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean; device?: string } = {},
  ) {
    super();
    this.weight = this.registerParameter('weight', empty([outFeatures, inFeatures], options.device));
    this.bias =
      options.bias === false ? null : this.registerParameter('bias', empty([outFeatures], options.device));
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) uniform_(this.bias, -1 / Math.sqrt(inFeatures), 1 / Math.sqrt(inFeatures));
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}
