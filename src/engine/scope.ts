// Deterministic freeing of tensors. Every tensor created inside tidy(fn) is disposed when fn returns, except what
// fn returns and what was kept; so a training loop frees each step's intermediates at once instead of waiting for
// the JavaScript garbage collector to notice libtorch's memory.

/** What the scope needs of a tensor (kept minimal so that tensor.ts can import this file). */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];
const kept = new WeakSet<Disposable>();

/** Called by every tensor constructor. */
export function track<T extends Disposable>(t: T): T {
  const scope = scopes[scopes.length - 1];
  if (scope !== undefined && !kept.has(t)) scope.add(t);
  return t;
}

/** Exempts a tensor from the enclosing tidy scopes (parameters, buffers and optimiser state). */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  for (const scope of scopes) scope.delete(t);
  return t;
}

/** Runs fn and disposes every tensor it created that is not in its result (tensors, arrays or plain objects). */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    for (const t of scope) t.dispose(); // a failed step must not leak its intermediates
    throw err;
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy() takes a synchronous function: tensors of an async function cannot be tracked');
  }
  const returned = new Set<Disposable>();
  collect(result, returned, 0);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (returned.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Disposes tensors found in a value (a tensor, an array or a plain object of them). */
export function dispose(value: unknown): void {
  const found = new Set<Disposable>();
  collect(value, found, 0);
  for (const t of found) t.dispose();
}

function isDisposable(value: unknown): value is Disposable {
  return typeof value === 'object' && value !== null && 'dispose' in value && 'isDisposed' in value;
}

function collect(value: unknown, into: Set<Disposable>, depth: number): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (isDisposable(value)) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, into, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, depth + 1);
  }
}

/**
 * Returns `result` after disposing `consumed`, the intermediate it was computed from (unless it is the same
 * tensor, as in-place ops return). Forward passes use it to free activations as soon as they are used, as
 * PyTorch's reference counting does; autograd keeps what backward needs by itself.
 */
export function release<T>(consumed: Disposable, result: T): T {
  if ((result as unknown) !== consumed) consumed.dispose();
  return result;
}

/** How many tidy scopes are open (for tests and leak diagnostics). */
export function scopeDepth(): number {
  return scopes.length;
}
