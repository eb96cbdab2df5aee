// prelu(x + residual, alpha) as one op: the end of a V-Net residual stage. One forward kernel that
// never writes the sum, and one backward pass that recomputes it and gives the gradient for the sum
// (shared by x and residual) and the slope gradient together. kernels/prelu.wgsl (RESIDUAL).
import { record } from '../core/autograd.js';
import { formatShape, type Tensor } from '../core/tensor.js';
import { checkPrelu, preluKernels } from './prelu.js';
import { sameShape } from './util.js';

export function addPrelu(x: Tensor, residual: Tensor, alpha: Tensor): Tensor {
  if (!sameShape(x.shape, residual.shape)) {
    throw new Error(
      `addPrelu: residual must have the shape of x ${formatShape(x.shape)} (no broadcasting), got ${formatShape(residual.shape)}`,
    );
  }
  checkPrelu('addPrelu', x, alpha);
  const { out, backward } = preluKernels('addPrelu', x, residual, alpha);
  return record('addPrelu', [x, residual, alpha], out, (g) => {
    const { gs, gAlpha } = backward(g, x.requiresGrad || residual.requiresGrad, alpha.requiresGrad);
    if (!gs) return [null, null, gAlpha];
    // d(x + residual)/dx = d(x + residual)/dresidual = 1: both get the same gradient.
    const gResidual = x.requiresGrad && residual.requiresGrad ? gs.withShape(residual.shape) : residual.requiresGrad ? gs : null;
    return [x.requiresGrad ? gs : null, gResidual, gAlpha];
  });
}
