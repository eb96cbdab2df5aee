// The scopes of tidy() (src/core/memory.ts) and of each backward step (src/core/autograd.ts): every tensor made
// while one is open is noted in the innermost, so that closing it can dispose of all but what it
// keeps. Kept apart from tidy() so that tensors can register without importing it.

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

/**
 * Runs `fn` in a new innermost scope, then disposes of everything made in it except
 * `survivors(result)`, which move to the enclosing scope. When `fn` or `survivors` throws,
 * everything made is disposed of before the error propagates: a training loop may catch and go on.
 */
export function scoped<T>(fn: () => T, survivors: (result: T) => Iterable<Disposable>): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  let kept: Set<Disposable>;
  try {
    result = fn();
    kept = new Set(survivors(result));
  } catch (e) {
    for (const t of scope) t.dispose();
    throw e;
  } finally {
    scopes.pop();
  }
  for (const t of scope) {
    if (kept.has(t)) trackInScope(t);
    else t.dispose();
  }
  return result;
}
