// expand: broadcast a tensor to a larger shape by copying (PyTorch's expand, materialised).
// V-Net uses it to replicate its one-channel input to 16 channels. Kernel: binary.wgsl `expand`,
// which shares the broadcast index mapping; backward sums the gradient back (sumTo).
import { record } from '../autograd.js';
import { empty, formatShape, type Tensor, type Shape } from '../tensor.js';
import { broadcastStrides } from './binary.js';
import { mapRaw } from './map.js';
import { sumTo } from './reduce.js';
import { checkMaxRank, packDims, runElementwise } from './util.js';

function checkExpand(op: string, x: Tensor, shape: Shape): void {
  const lead = shape.length - x.rank;
  const ok = lead >= 0 && x.shape.every((d, i) => d === 1 || d === shape[lead + i]);
  if (!ok) throw new Error(`${op}: cannot expand shape ${formatShape(x.shape)} to ${formatShape(shape)} (each dimension must match or be 1)`);
}

/** Broadcast copy of x to `shape`, times `scale`, without autograd. */
export function expandRaw(op: string, x: Tensor, shape: Shape, scale = 1): Tensor {
  checkMaxRank(op, x);
  checkExpand(op, x, shape);
  const copy = empty(shape);
  runElementwise(
    op,
    'binary',
    'expand',
    Math.ceil(copy.size / 4),
    { a: x, out: copy },
    { n: copy.size, rank: shape.length, outShape: packDims(shape), aStrides: packDims(broadcastStrides(x.shape, shape)), bStrides: packDims([]) },
  );
  if (scale === 1) return copy;
  const scaled = mapRaw(op, 'mul', copy, scale);
  copy.dispose();
  return scaled;
}

export function expand(x: Tensor, shape: Shape): Tensor {
  return record('expand', [x], expandRaw('expand', x, shape), (g) => [sumTo(g, x.shape)]);
}
