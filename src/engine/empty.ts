// Uninitialised-looking storage for parameters that an initialiser fills next (zeros: cheap and deterministic).
import { zeros } from './creation.ts';
import type { Tensor } from './tensor.ts';

export function empty(shape: readonly number[], device?: string): Tensor {
  return zeros(shape, device === undefined ? {} : { device });
}
