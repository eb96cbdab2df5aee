// sum and mean over any axes (PyTorch's `dim` / `keepDim`), and sumTo, which undoes broadcasting
// for backward passes. kernels/reduce.wgsl; backward broadcasts the gradient back (expand).
import { record } from '../core/autograd.js';
import { tidy } from '../core/memory.js';
import { empty, formatShape, type Tensor, type Shape } from '../core/tensor.js';
import { expandRaw, mapRaw } from './raw.js';
import { checkMaxRank, contiguousStrides, normalizeDim, packDims } from './util.js';
import { getContext } from '../device/context.js';

/** Enough parallel partial sums to keep every core of a software adapter busy. */
const targetInvocations = 4096;
const minChunk = 256;

interface Block {
  size: number;
  stride: number;
}

/** Sums `red` blocks for every `kept` position, times `scale`, without autograd. */
function reduceBlocks(op: string, x: Tensor, kept: Block[], red: Block[], scale: number): Tensor {
  const outSize = kept.reduce((a, b) => a * b.size, 1);
  const reduceSize = red.reduce((a, b) => a * b.size, 1);
  let chunks = Math.min(Math.ceil(targetInvocations / outSize), Math.ceil(reduceSize / minChunk));
  chunks = Math.max(chunks, 1);
  // At least one element per chunk and one chunk: an empty reduced axis sums to 0 (mean: NaN).
  const chunk = Math.max(1, Math.ceil(reduceSize / chunks));
  chunks = Math.max(1, Math.ceil(reduceSize / chunk));
  const out = empty([outSize * chunks]);
  const ctx = getContext();
  ctx.dispatch({
    op,
    kernel: 'reduce',
    entry: 'sum',
    bindings: { x, out },
    params: {
      outSize,
      reduceSize,
      chunk,
      chunks,
      keptRank: kept.length,
      redRank: red.length,
      scale: chunks > 1 ? 1 : scale,
      keptShape: packDims(kept.map((b) => b.size)),
      keptStrides: packDims(kept.map((b) => b.stride)),
      redShape: packDims(red.map((b) => b.size)),
      redStrides: packDims(red.map((b) => b.stride)),
    },
    invocations: outSize * chunks,
  });
  if (chunks === 1) return out;
  const total = reduceBlocks(op, out, [{ size: outSize, stride: chunks }], [{ size: chunks, stride: 1 }], scale);
  // Freed here, not by an enclosing backward's scope: add's backward sums twice, and the second
  // sum's partials may reuse these.
  out.dispose();
  return total;
}

/** Sums x over the axes flagged in `reduceAxis`, merging neighbouring axes of the same kind. */
function reduceAxes(op: string, x: Tensor, reduceAxis: boolean[], scale: number): Tensor {
  const strides = contiguousStrides(x.shape);
  const kept: Block[] = [];
  const red: Block[] = [];
  let prev: boolean | null = null;
  for (let d = 0; d < x.rank; d++) {
    const size = x.shape[d]!;
    if (size === 1) continue;
    const list = reduceAxis[d] ? red : kept;
    const last = list[list.length - 1];
    // Row-major: an axis continues the previous block when that block was of the same kind.
    if (last && prev === reduceAxis[d]) {
      last.size *= size;
      last.stride = strides[d]!;
    } else {
      list.push({ size, stride: strides[d]! });
    }
    prev = reduceAxis[d]!;
  }
  if (red.length === 0) red.push({ size: 1, stride: 1 });
  return reduceBlocks(op, x, kept, red, scale);
}

function reducedShape(shape: Shape, reduceAxis: boolean[], keepDim: boolean): number[] {
  return keepDim ? shape.map((d, i) => (reduceAxis[i] ? 1 : d)) : shape.filter((_, i) => !reduceAxis[i]);
}

function axesFlags(op: string, x: Tensor, dim?: number | readonly number[]): boolean[] {
  checkMaxRank(op, x);
  if (dim === undefined) return x.shape.map(() => true);
  const dims = (typeof dim === 'number' ? [dim] : dim).map((d) => normalizeDim(op, d, x.rank));
  if (new Set(dims).size !== dims.length) throw new Error(`${op}: dimension list [${dim}] repeats a dimension`);
  const flags = x.shape.map(() => false);
  for (const d of dims) flags[d] = true;
  return flags;
}

function reduceOp(op: string, x: Tensor, dim: number | readonly number[] | undefined, keepDim: boolean, isMean: boolean): Tensor {
  const flags = axesFlags(op, x, dim);
  const count = x.shape.reduce((a, d, i) => (flags[i] ? a * d : a), 1);
  const scale = isMean ? 1 / count : 1;
  const out = tidy(() => reduceAxes(op, x, flags, scale).withShape(reducedShape(x.shape, flags, keepDim), op));
  return record(op, [x], out, (g) => {
    const gx = expandRaw(op, g.withShape(reducedShape(x.shape, flags, true)), x.shape);
    return [scale === 1 ? gx : mapRaw(op, 'mul', gx, scale)];
  });
}

/** Sum over `dim` (all axes when omitted), like torch.sum. */
export function sum(x: Tensor, dim?: number | readonly number[], keepDim = false): Tensor {
  return reduceOp('sum', x, dim, keepDim, false);
}

/** Mean over `dim` (all axes when omitted), like torch.mean. */
export function mean(x: Tensor, dim?: number | readonly number[], keepDim = false): Tensor {
  return reduceOp('mean', x, dim, keepDim, true);
}

/** Sums a broadcast result back to `shape` (the inverse of broadcasting), without autograd. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  const lead = g.rank - shape.length;
  if (lead < 0) throw new Error(`sumTo: cannot reduce ${formatShape(g.shape)} to the larger rank of ${formatShape(shape)}`);
  const flags = g.shape.map((d, i) => i < lead || (shape[i - lead] === 1 && d !== 1));
  return tidy(() => reduceAxes('sumTo', g, flags, 1).withShape(shape, 'sumTo'));
}
