// Float64 references for PReLU, softmax, logSoftmax and argmax, with their analytic gradients
// (which the tests in turn check against finite differences).
import { shapeSize } from '../../src/core/shape.js';

/** Calls fn with the flat indices of every line along `dim` of a row-major `shape`. */
export function forEachLine(shape: readonly number[], dim: number, fn: (indices: number[]) => void): void {
  const length = shape[dim]!;
  const inner = shapeSize(shape.slice(dim + 1));
  const outer = shapeSize(shape.slice(0, dim));
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < inner; k++) fn(Array.from({ length }, (_, c) => (o * length + c) * inner + k));
  }
}

/** The alpha index of each element: its channel (dimension 1), or 0 for a shared slope. */
function slopeIndex(shape: readonly number[], alphaSize: number, i: number): number {
  if (alphaSize === 1) return 0;
  const inner = shapeSize(shape.slice(2));
  return Math.floor(i / inner) % shape[1]!;
}

export function prelu(x: Float64Array, alpha: Float64Array, shape: readonly number[]): Float64Array {
  return x.map((v, i) => (v > 0 ? v : alpha[slopeIndex(shape, alpha.length, i)]! * v));
}

export function preluBackward(
  x: Float64Array,
  alpha: Float64Array,
  g: Float64Array,
  shape: readonly number[],
): { gx: Float64Array; gAlpha: Float64Array } {
  const gx = new Float64Array(x.length);
  const gAlpha = new Float64Array(alpha.length);
  x.forEach((v, i) => {
    const c = slopeIndex(shape, alpha.length, i);
    gx[i] = v > 0 ? g[i]! : alpha[c]! * g[i]!;
    if (v <= 0) gAlpha[c]! += g[i]! * v;
  });
  return { gx, gAlpha };
}

export function logSoftmax(x: Float64Array, shape: readonly number[], dim: number): Float64Array {
  const out = new Float64Array(x.length);
  forEachLine(shape, dim, (line) => {
    const m = Math.max(...line.map((i) => x[i]!));
    const lse = m + Math.log(line.reduce((a, i) => a + Math.exp(x[i]! - m), 0));
    for (const i of line) out[i] = x[i]! - lse;
  });
  return out;
}

export function softmax(x: Float64Array, shape: readonly number[], dim: number): Float64Array {
  return logSoftmax(x, shape, dim).map(Math.exp);
}

/** Gradient of Σ g·softmax(x): y ⊙ (g − Σ g·y) along each line. */
export function softmaxBackward(y: Float64Array, g: Float64Array, shape: readonly number[], dim: number): Float64Array {
  const gx = new Float64Array(y.length);
  forEachLine(shape, dim, (line) => {
    const s = line.reduce((a, i) => a + g[i]! * y[i]!, 0);
    for (const i of line) gx[i] = y[i]! * (g[i]! - s);
  });
  return gx;
}

/** Gradient of Σ g·logSoftmax(x): g − softmax ⊙ Σ g along each line. */
export function logSoftmaxBackward(y: Float64Array, g: Float64Array, shape: readonly number[], dim: number): Float64Array {
  const gx = new Float64Array(y.length);
  forEachLine(shape, dim, (line) => {
    const s = line.reduce((a, i) => a + g[i]!, 0);
    for (const i of line) gx[i] = g[i]! - Math.exp(y[i]!) * s;
  });
  return gx;
}

/** First index of the maximum along `dim`, in the order of the remaining axes. */
export function argmax(x: Float64Array, shape: readonly number[], dim: number): Float64Array {
  const out: number[] = [];
  forEachLine(shape, dim, (line) => {
    let best = 0;
    line.forEach((i, k) => {
      if (x[i]! > x[line[best]!]!) best = k;
    });
    out.push(best);
  });
  return Float64Array.from(out);
}

/** erf in float64: its Taylor series for |x| < 3, else 1 − erfc from erfc's continued fraction. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a >= 3) return Math.sign(x) * (1 - erfcLarge(a));
  let term = x;
  let total = x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(total); n++) {
    term *= (-x * x) / n;
    total += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * total;
}

/** erfc(x) for x ≥ 3: exp(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))), 200 terms from the tail. */
function erfcLarge(x: number): number {
  let f = x;
  for (let k = 200; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** erfc in float64, from the tail side where erf is near ±1. */
export function erfc(x: number): number {
  return x >= 3 ? erfcLarge(x) : 1 - erf(x);
}

/** Φ(x), the standard normal CDF, accurate in both tails. */
export function normalCdf(x: number): number {
  return x < 0 ? 0.5 * erfc(-x / Math.SQRT2) : 1 - 0.5 * erfc(x / Math.SQRT2);
}

export const activations = {
  elu: (x: number, alpha = 1) => (x > 0 ? x : alpha * Math.expm1(x)),
  leakyRelu: (x: number, slope = 0.01) => (x > 0 ? x : slope * x),
  sigmoid: (x: number) => 1 / (1 + Math.exp(-x)),
  gelu: (x: number) => x * normalCdf(x),
  // ½x(1 + tanh(u)) written as x·sigmoid(2u): 1 + tanh(u) cancels to 0 in float64 for u < −19.
  geluTanh: (x: number) => x / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  erf,
};
