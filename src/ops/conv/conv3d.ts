// conv3d: its forward is convolve(), its input gradient the transposed convolve(), its weight
// gradient weightGrad() (path.ts, which chooses the kernels).
import { record } from '../../core/autograd.js';
import type { Tensor } from '../../core/tensor.js';
import { biasGrad, convolve, weightGrad } from './path.js';
import { conv3dShape, type Conv3dOptions, type ConvGeometry } from './shape.js';

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
  return record(op, inputs, out, (g) => conv3dGrads(op, x, weight, b, geometry, g));
}

/** conv3d's gradients for x, weight and bias (where given) from the output's gradient g, each only where it requires one. */
export function conv3dGrads(op: string, x: Tensor, weight: Tensor, b: Tensor | null, geometry: ConvGeometry, g: Tensor): (Tensor | null)[] {
  return [
    x.requiresGrad ? convolve({ op, src: g, weight, bias: null, outSpatial: x.shape.slice(2), geometry, transposed: true }) : null,
    weight.requiresGrad ? weightGrad({ op, lhs: g, src: x, geometry }) : null,
    ...(b ? [b.requiresGrad ? biasGrad(g) : null] : []),
  ];
}
