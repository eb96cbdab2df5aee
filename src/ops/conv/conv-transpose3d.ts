// convTranspose3d: conv3d's adjoint, so it reuses conv3d's passes with the roles swapped — its
// forward is conv3d's input gradient, its input gradient is conv3d's forward, and its weight
// gradient is the same correlation with x and the output gradient exchanged.
import { record } from '../../core/autograd.js';
import type { Tensor } from '../../core/tensor.js';
import { biasGrad, convolve, weightGrad } from './path.js';
import { convTranspose3dShape, type ConvTranspose3dOptions } from './shape.js';

/**
 * Transposed 3D convolution like torch.nn.functional.conv_transpose3d: x [N, Cin, D, H, W],
 * weight [Cin, Cout, kD, kH, kW], bias [Cout] or none. Gradients for x, weight and bias.
 */
export function convTranspose3d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose3dOptions = {}): Tensor {
  const op = 'convTranspose3d';
  const b = bias ?? null;
  const { geometry, outShape } = convTranspose3dShape(x, weight, b, options);
  const out = convolve({ op, src: x, weight, bias: b, outSpatial: outShape.slice(2), geometry, transposed: true });
  const inputs = b ? [x, weight, b] : [x, weight];
  return record(op, inputs, out, (g) => [
    x.requiresGrad ? convolve({ op, src: g, weight, bias: null, outSpatial: x.shape.slice(2), geometry, transposed: false }) : null,
    weight.requiresGrad ? weightGrad({ op, lhs: x, src: g, geometry }) : null,
    b?.requiresGrad ? biasGrad(g) : null,
  ]);
}
