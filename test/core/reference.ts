// Float64 CPU references for the glue ops: plain loops over row-major index tuples, written without
// any of the library's stride tricks (merged axes, chunked sums) so they check those independently.
import { shapeSize } from '../../src/core/shape.js';

export interface Ref {
  data: Float64Array;
  shape: number[];
}

export const size = shapeSize;

/** The index tuple of flat position i. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d]! + idx[d]!;
  return i;
}

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error('reference: not broadcastable');
    out.push(Math.max(da, db));
  }
  return out;
}

/** The element of x (shape `shape`) read at output index `idx` under broadcasting. */
function broadcastRead(x: Float64Array, shape: readonly number[], idx: readonly number[]): number {
  const lead = idx.length - shape.length;
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d]! + (shape[d] === 1 ? 0 : idx[lead + d]!);
  return x[i]!;
}

export function binary(
  a: Float64Array,
  as: readonly number[],
  b: Float64Array,
  bs: readonly number[],
  f: (x: number, y: number) => number,
): Ref {
  const shape = broadcastShape(as, bs);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    data[i] = f(broadcastRead(a, as, idx), broadcastRead(b, bs, idx));
  }
  return { data, shape };
}

export function map(x: Float64Array, shape: readonly number[], f: (v: number) => number): Ref {
  return { data: x.map(f), shape: [...shape] };
}

export function expand(x: Float64Array, shape: readonly number[], to: readonly number[]): Ref {
  const data = new Float64Array(size(to));
  for (let i = 0; i < data.length; i++) data[i] = broadcastRead(x, shape, unravel(i, to));
  return { data, shape: [...to] };
}

/** Sum (or mean) over `dims` (normalised, any order), like torch.sum(x, dims, keepdim). */
export function reduce(
  x: Float64Array,
  shape: readonly number[],
  dims: readonly number[] | undefined,
  keepDim: boolean,
  mean: boolean,
): Ref {
  const all = dims === undefined;
  const flags = shape.map((_, d) => all || dims.includes(d));
  const keptShape = shape.map((s, d) => (flags[d] ? 1 : s));
  const data = new Float64Array(size(keptShape));
  let count = 1;
  shape.forEach((s, d) => {
    if (flags[d]) count *= s;
  });
  for (let i = 0; i < x.length; i++) {
    const idx = unravel(i, shape).map((v, d) => (flags[d] ? 0 : v));
    data[ravel(idx, keptShape)] += x[i]!;
  }
  if (mean) for (let i = 0; i < data.length; i++) data[i] /= count;
  return { data, shape: keepDim ? keptShape : shape.filter((_, d) => !flags[d]) };
}

export function concat(xs: readonly Float64Array[], shapes: readonly (readonly number[])[], dim: number): Ref {
  const shape = [...shapes[0]!];
  shape[dim] = shapes.reduce((a, s) => a + s[dim]!, 0);
  const data = new Float64Array(size(shape));
  let start = 0;
  xs.forEach((x, k) => {
    const s = shapes[k]!;
    for (let i = 0; i < x.length; i++) {
      const idx = unravel(i, s);
      idx[dim] += start;
      data[ravel(idx, shape)] = x[i]!;
    }
    start += s[dim]!;
  });
  return { data, shape };
}

export function narrow(x: Float64Array, shape: readonly number[], dim: number, start: number, length: number): Ref {
  const out = [...shape];
  out[dim] = length;
  const data = new Float64Array(size(out));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, out);
    idx[dim] += start;
    data[i] = x[ravel(idx, shape)]!;
  }
  return { data, shape: out };
}
