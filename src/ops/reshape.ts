// reshape/view: a new shape over the same buffer (no copy); -1 infers one dimension.
import { record } from '../core/autograd.js';
import { formatShape, type Shape, type Tensor } from '../core/tensor.js';

export function reshape(x: Tensor, shape: Shape): Tensor {
  const holes = shape.filter((d) => d === -1).length;
  if (holes > 1) throw new Error(`reshape: only one dimension can be -1, got ${formatShape(shape)}`);
  let resolved = [...shape];
  if (holes === 1) {
    const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`reshape: cannot view shape ${formatShape(x.shape)} (${x.size} elements) as ${formatShape(shape)}`);
    }
    resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  return record('reshape', [x], x.withShape(resolved, 'reshape'), (g) => [g.withShape(x.shape)]);
}

export const view = reshape;
