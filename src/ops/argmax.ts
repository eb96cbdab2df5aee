// argmax along an axis, like torch.argmax: hard masks from class probabilities. kernels/argmax.wgsl.
// Indices come back as a float tensor (the only dtype here) and carry no gradient.
import { empty, formatShape, type Tensor } from '../core/tensor.js';
import { lineParams } from './softmax.js';
import { normalizeDim, runElementwise } from './util.js';

/** Index of the largest value along `dim` (default 1, the channels of NCDHW); the first one on ties. */
export function argmax(x: Tensor, dim = 1, keepDim = false): Tensor {
  const d = normalizeDim('argmax', dim, x.rank);
  if (x.shape[d] === 0) throw new Error(`argmax: dimension ${d} of shape ${formatShape(x.shape)} is empty`);
  const params = lineParams('argmax', x, d);
  const out = empty(keepDim ? x.shape.map((s, i) => (i === d ? 1 : s)) : x.shape.filter((_, i) => i !== d));
  runElementwise('argmax', 'argmax', 'argmax', params.lines, { x, out }, params);
  return out;
}
