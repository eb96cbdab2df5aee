// expand: broadcast a tensor to a larger shape by copying (PyTorch's expand, materialised).
// V-Net uses it to replicate its one-channel input to 16 channels. Kernel: binary.wgsl `expand`,
// which shares the broadcast index mapping; backward sums the gradient back (sumTo).
import { record } from '../core/autograd.js';
import type { Shape, Tensor } from '../core/tensor.js';
import { expandRaw } from './raw.js';
import { sumTo } from './reduce.js';

export function expand(x: Tensor, shape: Shape): Tensor {
  return record('expand', [x], expandRaw('expand', x, shape), (g) => [sumTo(g, x.shape)]);
}
