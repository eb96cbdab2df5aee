// The scopes of tidy() (src/memory.ts): every tensor made while one is open is noted in the innermost,
// so tidy() can dispose of it. Kept apart from tidy() so that tensors can register without importing it.

/** What a scope holds: anything that can be disposed of (a Tensor). */
export interface Disposable {
  dispose(): void;
}

const scopes: Set<Disposable>[] = [];

export function trackInScope(t: Disposable): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Removes a tensor from every open scope, so it outlives them (used for gradients and parameters). */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/** Runs `fn` with a new innermost scope, which it returns with what `fn` returned (or threw, after popping). */
export function inScope<T>(fn: () => T): { result: T; scope: Set<Disposable> } {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  try {
    return { result: fn(), scope };
  } catch (e) {
    // A failed step must not leak what it made before failing: a training loop may catch and go on.
    for (const t of scope) t.dispose();
    throw e;
  } finally {
    scopes.pop();
  }
}
