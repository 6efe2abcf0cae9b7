// Finite-difference gradient check (torch.autograd.gradcheck in spirit): compares autograd's gradient of
// sum(f(inputs) · w), for a fixed random w, with central differences, in float64.
import { noGrad } from './autograd.ts';
import { randn, tensor } from './creation.ts';
import { tidy } from './scope.ts';
import type { Tensor } from './tensor.ts';

export interface GradCheckResult {
  ok: boolean;
  /** Largest |analytic − numeric| / max(1, |numeric|) over all checked elements. */
  maxError: number;
  worst: string;
}

/**
 * inputs must be float64 leaves with requiresGrad; f must be deterministic. At most maxElements entries of each
 * input are perturbed (spread over the tensor) to keep big convolutions affordable.
 */
export function gradCheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: { eps?: number; tolerance?: number; maxElements?: number } = {},
): GradCheckResult {
  const eps = options.eps ?? 1e-6;
  const tol = options.tolerance ?? 1e-5;
  const maxElements = options.maxElements ?? 64;
  return tidy(() => {
    const out0 = f(...inputs);
    const w = randn(out0.shape, { dtype: 'float64' });
    const objective = () =>
      noGrad(() =>
        tidy(() =>
          f(...inputs)
            .mul(w)
            .sum()
            .item(),
        ),
      );
    out0.mul(w).sum().backward();
    let maxError = 0;
    let worst = '';
    inputs.forEach((x, k) => {
      const analytic = x.grad?.data() as Float64Array | undefined;
      if (!analytic) throw new Error(`input ${k} received no gradient`);
      const values = x.data() as Float64Array;
      const stride = Math.max(1, Math.floor(values.length / maxElements));
      for (let i = 0; i < values.length; i += stride) {
        const original = values[i]!;
        const numeric =
          (valueAt(x, values, i, original + eps, objective) -
            valueAt(x, values, i, original - eps, objective)) /
          (2 * eps);
        setElement(x, values, i, original);
        const err = Math.abs(analytic[i]! - numeric) / Math.max(1, Math.abs(numeric));
        if (err > maxError) {
          maxError = err;
          worst = `input ${k} element ${i}: analytic ${analytic[i]} vs numeric ${numeric}`;
        }
      }
    });
    return { ok: maxError <= tol, maxError, worst };
  });
}

function valueAt(x: Tensor, values: Float64Array, i: number, v: number, objective: () => number): number {
  setElement(x, values, i, v);
  return objective();
}

function setElement(x: Tensor, values: Float64Array, i: number, v: number): void {
  values[i] = v;
  noGrad(() => tidy(() => x.copy_(tensor(values, x.shape))));
}
