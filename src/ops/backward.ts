// Tensor.backward(): seeds the gradient and accumulates into leaves with the in-place kernel.
import { noGrad, runBackward } from '../autograd.js';
import { formatShape, type Tensor } from '../tensor.js';
import { binaryRaw } from './binary.js';
import { ones } from './creation.js';
import { runElementwise, sameShape } from './util.js';

/** into += g (same size), in place. */
export function accumulate(into: Tensor, g: Tensor, scale = 1): void {
  runElementwise('backward', 'map', 'accumulate', into.size, { x: g, out: into }, { n: into.size, s: scale });
}

/**
 * into + g for autograd: in place when `into` is the only tensor on its buffer; otherwise (a view
 * shared with another gradient or with the caller's tensor, possibly with `g` itself) into a new tensor.
 */
function accumulateGrad(into: Tensor, g: Tensor): Tensor {
  if (!into.sharesBuffer) {
    accumulate(into, g);
    return into;
  }
  const fitted = g.viewAs(into.shape);
  const total = binaryRaw('backward', 'add', into, fitted);
  fitted.dispose();
  return total;
}

export function backward(root: Tensor, gradient?: Tensor): void {
  if (!root.requiresGrad) {
    throw new Error(`backward: tensor ${formatShape(root.shape)} does not require grad (no input had requiresGrad, or it was made under noGrad)`);
  }
  if (!gradient && root.size !== 1) {
    throw new Error(`backward: a gradient can only be implied for a one-element output, got shape ${formatShape(root.shape)}; pass one`);
  }
  if (gradient && !sameShape(gradient.shape, root.shape)) {
    throw new Error(`backward: gradient shape ${formatShape(gradient.shape)} does not match output ${formatShape(root.shape)}`);
  }
  noGrad(() => {
    const seed = gradient ?? ones(root.shape);
    runBackward(root, seed, accumulateGrad);
    if (!gradient) seed.dispose();
  });
}
