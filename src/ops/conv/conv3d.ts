// conv3d: its forward is convolve(), its input gradient the transposed convolve(), its weight
// gradient weightGrad() (path.ts, which chooses the kernels).
import { record } from '../../core/autograd.js';
import type { Tensor } from '../../core/tensor.js';
import { biasGrad, convolve, weightGrad } from './path.js';
import { conv3dShape, type Conv3dOptions } from './shape.js';

/**
 * 3D convolution like torch.nn.functional.conv3d: x [N, Cin, D, H, W], weight
 * [Cout, Cin, kD, kH, kW], bias [Cout] or none. Gradients for x, weight and bias.
 */
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv3dOptions = {}): Tensor {
  const b = bias ?? null;
  const { geometry, outShape } = conv3dShape(x, weight, b, options);
  const op = 'conv3d';
  const out = convolve({ op, src: x, weight, bias: b, outSpatial: outShape.slice(2), geometry, transposed: false });
  const inputs = b ? [x, weight, b] : [x, weight];
  return record(op, inputs, out, (g) => [
    x.requiresGrad ? convolve({ op, src: g, weight, bias: null, outSpatial: x.shape.slice(2), geometry, transposed: true }) : null,
    weight.requiresGrad ? weightGrad({ op, lhs: g, src: x, geometry }) : null,
    b?.requiresGrad ? biasGrad(g) : null,
  ]);
}
