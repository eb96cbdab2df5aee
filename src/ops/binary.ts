// add, sub, mul, div with NumPy/PyTorch broadcasting: shapes are aligned from the right and each
// dimension must match or be 1. A number operand uses the scalar map kernel instead.
// kernels/binary.wgsl; backward reduces each gradient back to its operand's shape (sumTo).
import { record } from '../core/autograd.js';
import { tidy } from '../core/memory.js';
import type { Shape, Tensor } from '../core/tensor.js';
import { addScalar, mulScalar } from './map.js';
import { binaryRaw, type BinaryOp } from './raw.js';
import { sumTo } from './reduce.js';
import { sameShape } from './util.js';

export { broadcastShapes } from './raw.js';

// Backward runs in a scope that frees what it does not return (autograd.ts): a view, not a copy,
// where no sum is needed. The helpers that make a full-size temporary free it in a tidy of their own,
// before the other operand's gradient asks for memory (which may then reuse it).
function reduced(g: Tensor, shape: Shape): Tensor {
  return sameShape(g.shape, shape) ? g.withShape(shape) : sumTo(g, shape);
}

function reducedProduct(g: Tensor, other: Tensor, fn: BinaryOp, shape: Shape): Tensor {
  return tidy(() => reduced(binaryRaw('backward', fn, g, other), shape));
}

/** −g summed back to `shape`. */
function negReduced(g: Tensor, shape: Shape): Tensor {
  return tidy(() => mulScalar(reduced(g, shape), -1));
}

export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return addScalar(a, b);
  return record('add', [a, b], binaryRaw('add', 'add', a, b), (g) => [reduced(g, a.shape), reduced(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return addScalar(a, -b);
  return record('sub', [a, b], binaryRaw('sub', 'sub', a, b), (g) => {
    const gb = negReduced(g, b.shape); // first: a's gradient may reuse the memory its sum freed
    return [reduced(g, a.shape), gb];
  });
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return mulScalar(a, b);
  return record('mul', [a, b], binaryRaw('mul', 'mul', a, b), (g) => [
    a.requiresGrad ? reducedProduct(g, b, 'mul', a.shape) : null,
    b.requiresGrad ? reducedProduct(g, a, 'mul', b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return mulScalar(a, 1 / b);
  const out = binaryRaw('div', 'div', a, b);
  return record('div', [a, b], out, (g) => {
    if (!b.requiresGrad) return [reducedProduct(g, b, 'div', a.shape), null];
    // d(a/b)/db = −(a/b)/b = −out/b; its two full-size terms are freed before a's gradient is made.
    const gb = tidy(() => negReduced(binaryRaw('div', 'mul', g, binaryRaw('div', 'div', out, b)), b.shape));
    return [a.requiresGrad ? reducedProduct(g, b, 'div', a.shape) : null, gb];
  });
}

/** 1 where a > b, else 0 (broadcast); no gradient. */
export function greater(a: Tensor, b: Tensor): Tensor {
  return binaryRaw('greater', 'gt', a, b);
}
