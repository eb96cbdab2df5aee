// Helpers every op shares: dispatching 1-D elementwise work and packing shapes for kernels.
import { getContext, type Bindable } from '../device/context.js';
import { uniformCapacity } from '../device/kernel-info.js';
import { formatShape, type Tensor, type Shape } from '../core/tensor.js';

/** The largest rank: shapes and strides fill a uniform array (binary.wgsl's and reduce.wgsl's array<vec4<u32>, 2>). */
export const maxRank = (): number => uniformCapacity('binary', 'expand', 'outShape');

/** Dispatches `n` independent work items of an elementwise kernel (1-D index over a 2-D grid). */
export function runElementwise(
  op: string,
  kernel: string,
  entry: string,
  n: number,
  bindings: Record<string, Bindable | null>,
  params: Record<string, number | readonly number[]>,
  constants?: Record<string, number>,
): void {
  getContext().dispatch({ op, kernel, entry, bindings, params, constants, invocations: n });
}

/** Pads a list of dims to `maxRank()` values for a kernel's shape or stride array. */
export function packDims(values: readonly number[]): number[] {
  return [...values, ...new Array(maxRank() - values.length).fill(0)];
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

/** Resolves a possibly negative axis, with PyTorch's error for one out of range. */
export function normalizeDim(op: string, dim: number, rank: number): number {
  if (!Number.isInteger(dim) || dim < -rank || dim >= rank) {
    throw new Error(`${op}: dimension ${dim} out of range for a tensor of rank ${rank} (expected ${-rank} to ${rank - 1})`);
  }
  return dim < 0 ? dim + rank : dim;
}

export function checkRank(op: string, name: string, t: Tensor, rank: number, layout = ''): void {
  if (t.rank !== rank) {
    throw new Error(`${op}: ${name} must have rank ${rank}${layout ? ` (${layout})` : ''}, got shape ${formatShape(t.shape)}`);
  }
}

export function checkMaxRank(op: string, t: Tensor): void {
  if (t.rank > maxRank())
    throw new Error(`${op}: tensors of rank ${t.rank} are not supported (at most ${maxRank()}), got shape ${formatShape(t.shape)}`);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
