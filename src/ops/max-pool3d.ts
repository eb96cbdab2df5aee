// maxPool3d: the largest value of each window of x [N, C, D, H, W], like
// torch.nn.functional.max_pool3d (floor mode, implicit −∞ padding, no dilation). The forward keeps
// each window's winner; the gradient goes to it alone. Kernels: max_pool.wgsl.
import { record } from '../core/autograd.js';
import { empty, formatShape, type Tensor } from '../core/tensor.js';
import { type Size3, type Triple, triple } from './conv/shape.js';
import { checkRank, runElementwise } from './util.js';

export interface MaxPool3dOptions {
  /** Default: the kernel size (non-overlapping windows). */
  stride?: Size3;
  /** Implicit −∞ on both sides, at most half the kernel; default 0. */
  padding?: Size3;
}

export function maxPool3d(x: Tensor, kernelSize: Size3, options: MaxPool3dOptions = {}): Tensor {
  checkRank('maxPool3d', 'x', x, 5, 'N, C, D, H, W');
  const kernel = triple('maxPool3d', 'kernelSize', kernelSize, 1, 1);
  const stride = triple('maxPool3d', 'stride', options.stride, kernel, 1);
  const padding = triple('maxPool3d', 'padding', options.padding, 0, 0);
  if (padding.some((p, i) => 2 * p > kernel[i]!))
    throw new Error(`maxPool3d: padding [${padding.join(', ')}] must be at most half the kernel [${kernel.join(', ')}]`);
  const inSize = x.shape.slice(2) as unknown as Triple;
  const outSize = inSize.map((d, i) => Math.floor((d + 2 * padding[i]! - kernel[i]!) / stride[i]!) + 1);
  if (outSize.some((d) => d < 1))
    throw new Error(
      `maxPool3d: kernel [${kernel.join(', ')}] with padding [${padding.join(', ')}] is larger than x ${formatShape(x.shape)}`,
    );
  const planes = x.shape[0]! * x.shape[1]!;
  const geometry = {
    planes,
    inSize: [...inSize, 0],
    outSize: [...outSize, 0],
    kernel: [...kernel, 0],
    stride: [...stride, 0],
    padding: [...padding, 0],
  };
  const out = empty([x.shape[0]!, x.shape[1]!, ...outSize]);
  // Each output's winner as a u32 position in its plane (the kernel's view of this buffer).
  const index = empty(out.shape);
  runElementwise('maxPool3d', 'max_pool', 'forward', out.size, { x, out, index }, { n: out.size, ...geometry });
  return record(
    'maxPool3d',
    [x],
    out,
    (g) => {
      const gx = empty(x.shape);
      runElementwise('maxPool3d', 'max_pool', 'backward', gx.size, { g, index, out: gx }, { n: gx.size, ...geometry });
      return [gx];
    },
    [index],
  );
}
