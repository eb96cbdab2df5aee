// add, sub, mul, div with NumPy/PyTorch broadcasting: shapes are aligned from the right and each
// dimension must match or be 1. A number operand uses the scalar map kernel instead.
// kernels/binary.wgsl; backward reduces each gradient back to its operand's shape (sumTo).
import { record } from '../autograd.js';
import type { Shape, Tensor } from '../tensor.js';
import { addScalar, mulScalar } from './map.js';
import { binaryRaw, type BinaryOp } from './raw.js';
import { sumTo } from './reduce.js';
import { sameShape } from './util.js';

export { broadcastShapes } from './raw.js';

// Backward hands out tensors it owns (the caller disposes the incoming gradient): a view, not a copy.
function reduced(g: Tensor, shape: Shape): Tensor {
  return sameShape(g.shape, shape) ? g.withShape(shape) : sumTo(g, shape);
}

function reducedProduct(g: Tensor, other: Tensor, fn: BinaryOp, shape: Shape): Tensor {
  const p = binaryRaw('backward', fn, g, other);
  const r = sameShape(p.shape, shape) ? p : sumTo(p, shape);
  if (r !== p) p.dispose();
  return r;
}

export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return addScalar(a, b);
  return record('add', [a, b], binaryRaw('add', 'add', a, b), (g) => [reduced(g, a.shape), reduced(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return addScalar(a, -b);
  return record('sub', [a, b], binaryRaw('sub', 'sub', a, b), (g) => {
    const gb = reduced(g, b.shape);
    const negated = mulScalar(gb, -1);
    gb.dispose();
    return [reduced(g, a.shape), negated];
  });
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return mulScalar(a, b);
  return record('mul', [a, b], binaryRaw('mul', 'mul', a, b), (g) => [a.requiresGrad ? reducedProduct(g, b, 'mul', a.shape) : null, b.requiresGrad ? reducedProduct(g, a, 'mul', b.shape) : null]);
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return mulScalar(a, 1 / b);
  const out = binaryRaw('div', 'div', a, b);
  return record('div', [a, b], out, (g) => {
    if (!b.requiresGrad) return [reducedProduct(g, b, 'div', a.shape), null];
    // d(a/b)/db = −(a/b)/b = −out/b
    const q = binaryRaw('div', 'div', out, b);
    const gq = binaryRaw('div', 'mul', g, q);
    const gb = sameShape(gq.shape, b.shape) ? mulScalar(gq, -1) : negSum(gq, b.shape);
    q.dispose();
    gq.dispose();
    return [a.requiresGrad ? reducedProduct(g, b, 'div', a.shape) : null, gb];
  });
}

function negSum(t: Tensor, shape: Shape): Tensor {
  const s = sumTo(t, shape);
  const n = mulScalar(s, -1);
  s.dispose();
  return n;
}

/** 1 where a > b, else 0 (broadcast); no gradient. */
export function greater(a: Tensor, b: Tensor): Tensor {
  return binaryRaw('greater', 'gt', a, b);
}
