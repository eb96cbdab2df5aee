// prelu(conv3d(x, weight, bias) + residual, alpha) as one op: the end of a V-Net residual stage, so a
// family that can (the mixed precision's tensor-core family) writes the activation straight from its
// accumulators, never storing the conv's output for a separate PReLU pass to read (path.ts's
// convolvePrelu: elsewhere the PReLU kernel runs after the conv, as addPrelu would).
// The backward needs the PReLU's input: the forward keeps it where a gradient will be needed (fused:
// written beside the activation; else the conv's output, added to the residual again). Neither
// alternative is exact and cheap: PReLU cannot be inverted from its output where a slope is ≤ 0, and
// recomputing the convolution costs a whole pass.
import { needsGrad, record } from '../../core/autograd.js';
import { formatShape, type Tensor } from '../../core/tensor.js';
import { sameShape } from '../util.js';
import { preluBackward } from '../prelu.js';
import { conv3dGrads } from './conv3d.js';
import { convolvePrelu } from './path.js';
import { conv3dShape, type Conv3dOptions } from './shape.js';

/**
 * prelu(conv3d(x, weight, bias, options) + residual, alpha), residual (of the conv's output shape)
 * optional, alpha [Cout] or [1]. Gradients for every input.
 */
export function conv3dPrelu(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  alpha: Tensor,
  residual: Tensor | null = null,
  options: Conv3dOptions = {},
): Tensor {
  const op = 'conv3dPrelu';
  const { geometry, outShape } = conv3dShape(x, weight, bias, options);
  const channels = outShape[1]!;
  if (alpha.rank !== 1 || (alpha.size !== 1 && alpha.size !== channels))
    throw new Error(`${op}: alpha must have shape [${channels}] or [1] (the conv's output channels), got ${formatShape(alpha.shape)}`);
  if (residual && !sameShape(residual.shape, outShape))
    throw new Error(`${op}: residual must have the conv's output shape ${formatShape(outShape)}, got ${formatShape(residual.shape)}`);
  const inputs = [x, weight, ...(bias ? [bias] : []), alpha, ...(residual ? [residual] : [])];
  const keepInput = needsGrad(inputs);
  const pass = { op, src: x, weight, bias, outSpatial: outShape.slice(2), geometry, transposed: false };
  const { out, input } = convolvePrelu(pass, { alpha, residual, keepInput });
  if (!input) return out;
  const internals = [input.x];
  return record(
    op,
    inputs,
    out,
    (g) => {
      const wantS = [x, weight, bias, residual].some((t) => t?.requiresGrad);
      const { gs, gAlpha } = preluBackward(op, input.x, input.residual, alpha)(g, wantS, alpha.requiresGrad);
      const conv = gs ? conv3dGrads(op, x, weight, bias, geometry, gs) : bias ? [null, null, null] : [null, null];
      // d(conv + residual)/dresidual = 1: the residual's gradient is the sum's.
      const gResidual = gs && residual?.requiresGrad ? gs.withShape(residual.shape) : null;
      return [...conv, gAlpha, ...(residual ? [gResidual] : [])];
    },
    internals,
  );
}
