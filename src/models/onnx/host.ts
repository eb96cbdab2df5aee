// Constant folding: the small integer and float arithmetic that export leaves on shapes and
// constants (Shape → Gather → Concat → Reshape, scalars for Div/Mul), computed on the host so that
// the GPU only runs the network.
import { broadcastShapes } from '../../ops/raw.js';
import type { HostArray } from './proto.js';

export function hostArray(shape: readonly number[], values: ArrayLike<number>, integer: boolean): HostArray {
  const data = integer ? Float64Array.from(values) : Float32Array.from(values);
  return { shape: [...shape], data, integer };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** Elementwise a ∘ b with NumPy broadcasting. */
export function hostBinary(op: string, a: HostArray, b: HostArray, f: (x: number, y: number) => number): HostArray {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const count = shape.reduce((p, d) => p * d, 1);
  const index = (h: HostArray) => {
    const s = strides(h.shape);
    const lead = shape.length - h.shape.length;
    return (flat: number) => {
      let at = 0;
      for (let i = shape.length - 1, rest = flat; i >= 0; i--) {
        const coord = rest % shape[i]!;
        rest = Math.floor(rest / shape[i]!);
        const d = i - lead;
        if (d >= 0 && h.shape[d] !== 1) at += coord * s[d]!;
      }
      return at;
    };
  };
  const [ia, ib] = [index(a), index(b)];
  const out = new Array<number>(count);
  const integer = a.integer && b.integer;
  for (let i = 0; i < count; i++) {
    const v = f(a.data[ia(i)]!, b.data[ib(i)]!);
    out[i] = integer ? Math.trunc(v) : v;
  }
  return hostArray(shape, out, integer);
}

/** Slices `h` along `axis` by `indices` (ONNX Gather; negative indices count from the end). */
export function hostGather(h: HostArray, indices: HostArray, axis: number): HostArray {
  const outer = h.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = h.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const n = h.shape[axis]!;
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of indices.data) {
      const k = raw < 0 ? raw + n : raw;
      for (let i = 0; i < inner; i++) out.push(h.data[(o * n + k) * inner + i]!);
    }
  }
  return hostArray([...h.shape.slice(0, axis), ...indices.shape, ...h.shape.slice(axis + 1)], out, h.integer);
}

/** Concatenation along `axis` of arrays that agree elsewhere. */
export function hostConcat(parts: HostArray[], axis: number): HostArray {
  const first = parts[0]!;
  const outer = first.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const chunk = p.shape.slice(axis).reduce((q, d) => q * d, 1);
      for (let i = 0; i < chunk; i++) out.push(p.data[o * chunk + i]!);
    }
  }
  const shape = [...first.shape];
  shape[axis] = parts.reduce((s, p) => s + p.shape[axis]!, 0);
  return hostArray(
    shape,
    out,
    parts.every((p) => p.integer),
  );
}
