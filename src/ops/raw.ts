// The elementwise kernels without autograd, which the differentiable ops (map.ts, binary.ts,
// expand.ts, reduce.ts) and their backward passes share: scalar maps (kernels/map.wgsl), broadcast
// binary ops and broadcast copies (kernels/binary.wgsl).
import { empty, formatShape, type Shape, type Tensor } from '../core/tensor.js';
import { checkMaxRank, contiguousStrides, packDims, runElementwise, sameShape } from './util.js';

const FN = { add: 0, mul: 1, exp: 2, log: 3, sqrt: 4, abs: 5, max: 6, step: 7 } as const;

/** out = f(x, s) without autograd. */
export function mapRaw(op: string, fn: keyof typeof FN, x: Tensor, s = 0): Tensor {
  const out = empty(x.shape);
  runElementwise(op, 'map', 'map', x.size, { x, out }, { n: x.size, s }, { FN: FN[fn] });
  return out;
}

/** t += s in place, ordered with the other work (no autograd). */
export function addScalarInPlace(op: string, t: Tensor, s: number): void {
  runElementwise(op, 'map', 'addInPlace', t.size, { out: t }, { n: t.size, s });
}

const OP = { add: 0, sub: 1, mul: 2, div: 3, gt: 4 } as const;
export type BinaryOp = keyof typeof OP;

export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast (dimension ${i} of the result: ${da} vs ${db})`,
      );
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` read as `outShape` (0 along broadcast dimensions). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = contiguousStrides(shape);
  return outShape.map((_, i) => {
    const d = i - (outShape.length - shape.length);
    return d < 0 || shape[d] === 1 ? 0 : strides[d]!;
  });
}

/** The broadcast elementwise kernel without autograd. */
export function binaryRaw(op: string, fn: BinaryOp, a: Tensor, b: Tensor): Tensor {
  checkMaxRank(op, a);
  checkMaxRank(op, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(shape);
  const plain = sameShape(a.shape, b.shape);
  runElementwise(
    op,
    'binary',
    'binary',
    Math.ceil(out.size / 4),
    { a, b, out },
    {
      n: out.size,
      rank: shape.length,
      outShape: packDims(shape),
      aStrides: packDims(broadcastStrides(a.shape, shape)),
      bStrides: packDims(broadcastStrides(b.shape, shape)),
    },
    { OP: OP[fn], BROADCAST: plain ? 0 : 1 },
  );
  return out;
}

function checkExpand(op: string, x: Tensor, shape: Shape): void {
  const lead = shape.length - x.rank;
  const ok = lead >= 0 && x.shape.every((d, i) => d === 1 || d === shape[lead + i]);
  if (!ok)
    throw new Error(`${op}: cannot expand shape ${formatShape(x.shape)} to ${formatShape(shape)} (each dimension must match or be 1)`);
}

/** Broadcast copy of x to `shape`, without autograd. */
export function expandRaw(op: string, x: Tensor, shape: Shape): Tensor {
  checkMaxRank(op, x);
  checkExpand(op, x, shape);
  return gatherRaw(op, x, shape, broadcastStrides(x.shape, shape));
}

/**
 * out[c] = x[Σ c_d · strides_d] over the coordinates c of `shape`, without autograd: a broadcast
 * (stride 0) or a permutation of x's dimensions (its strides reordered). Kernel: binary.wgsl `expand`.
 */
export function gatherRaw(op: string, x: Tensor, shape: Shape, strides: readonly number[]): Tensor {
  const copy = empty(shape);
  runElementwise(
    op,
    'binary',
    'expand',
    Math.ceil(copy.size / 4),
    { a: x, out: copy },
    { n: copy.size, rank: shape.length, outShape: packDims(shape), aStrides: packDims(strides), bStrides: packDims([]) },
  );
  return copy;
}
