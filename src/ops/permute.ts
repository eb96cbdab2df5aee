// permute: x with its dimensions reordered (torch.permute), copied into the new layout; ONNX's
// Transpose. The gradient is the inverse permutation of the output's gradient. Kernel: binary.wgsl
// `expand`, a strided gather, with x's strides reordered.
import { record } from '../core/autograd.js';
import { formatShape, type Tensor } from '../core/tensor.js';
import { gatherRaw } from './raw.js';
import { checkMaxRank, contiguousStrides } from './util.js';

/** Output dimension i is x's dimension dims[i] (negative values count from the end). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkMaxRank('permute', x);
  const rank = x.rank;
  const order = dims.map((d) => (d < 0 ? d + rank : d));
  const isPermutation =
    order.length === rank && order.every((d) => Number.isInteger(d) && d >= 0 && d < rank) && new Set(order).size === rank;
  if (!isPermutation)
    throw new Error(`permute: dims must order every dimension of x ${formatShape(x.shape)} once, got [${dims.join(', ')}]`);
  const strides = contiguousStrides(x.shape);
  const out = gatherRaw(
    'permute',
    x,
    order.map((d) => x.shape[d]!),
    order.map((d) => strides[d]!),
  );
  const inverse = new Array<number>(rank);
  order.forEach((d, i) => {
    inverse[d] = i;
  });
  return record('permute', [x], out, (g) => [permute(g, inverse)]);
}
