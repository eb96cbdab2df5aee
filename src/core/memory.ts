// tidy(): deterministic release of every tensor an expression creates, apart from what it returns.
// GPU memory cannot wait for the JS garbage collector in a training loop.
import { keep, scoped } from './scope.js';
import { Tensor } from './tensor.js';

export { keep };

function collectTensors(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (value instanceof Tensor) {
    out.add(value);
    return;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) collectTensors(v, out, seen);
}

/**
 * Runs `fn` and disposes every tensor created inside it except those in its result (a tensor, or
 * arrays/objects of tensors). Tensors returned move to the enclosing scope. `fn` must be synchronous.
 * When `fn` throws, everything it created (and did not keep()) is disposed before the error propagates.
 */
export function tidy<T>(fn: () => T): T {
  return scoped(fn, (result) => {
    if (result instanceof Promise) throw new Error('tidy: the function must be synchronous (it returned a Promise)');
    const survivors = new Set<Tensor>();
    collectTensors(result, survivors);
    return survivors;
  });
}
