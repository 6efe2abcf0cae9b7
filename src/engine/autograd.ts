// Grad-mode scopes, as torch.no_grad() / torch.enable_grad(), and the mixed-precision scope, as
// torch.autocast('cpu', dtype=torch.bfloat16).
import { native } from './native.ts';

/** Runs a synchronous fn inside a thread-local libtorch state: enter() before, exit(what enter returned) after. */
function scoped<S, T>(what: string, enter: () => S, exit: (saved: S) => void, fn: () => T): T {
  const saved = enter();
  try {
    const result = fn();
    if (result instanceof Promise) throw new Error(`${what} takes a synchronous function`);
    return result;
  } finally {
    exit(saved);
  }
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  return scoped(
    'a grad-mode scope',
    () => native.setGradEnabled(enabled),
    (previous) => native.setGradEnabled(previous),
    fn,
  );
}

/** Runs fn without recording operations for autograd (inference, metric computation, parameter updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

/**
 * Runs fn under CPU autocast in bfloat16: convolutions and matrix products compute in bfloat16 (about twice as
 * fast where the CPU has bfloat16 instructions), the rest in float32. Outputs of such operations are bfloat16;
 * cast them with .float() before a loss. Autograd records the casts, so gradients reach the float32 weights.
 */
export function autocast<T>(fn: () => T): T {
  return scoped(
    'the autocast scope',
    () => native.enterAutocast(),
    (previous) => native.exitAutocast(previous),
    fn,
  );
}
