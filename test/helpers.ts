// Shared test utilities: one GPU context per test file, seeded host data, float64 comparisons
// and central finite differences.
import { init, getContext, type Context } from '../src/index.js';

let ctx: Context | null = null;

export async function gpu(): Promise<Context> {
  ctx ??= await init();
  return ctx;
}

export function current(): Context {
  return getContext();
}

/** mulberry32: a tiny seeded generator, so every test input is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [lo, hi). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** max |a − b| / max(1, max |b|): relative to the reference's scale, robust near zero. */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let scale = 1e-12;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= err)) err = Number.isNaN(d) ? Infinity : d;
  }
  return err / scale;
}

/**
 * The largest |a[i] − b[i]| / |b[i]|: every element against its own size, for outputs whose sizes
 * span orders of magnitude (an error on a small value is not hidden by a large one; an expected 0
 * must come out exactly 0).
 */
export function maxElementRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (d === 0) continue;
    const e = d / Math.abs(expected[i]!);
    if (!(e <= err)) err = Number.isNaN(e) ? Infinity : e;
  }
  return err;
}

/** The largest |a[i] − b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Central finite differences of a scalar function f(x) in float64: the reference every analytic
 * gradient is checked against. With `indices`, only those entries (in that order).
 */
export function finiteDifference(f: (x: Float64Array) => number, x: Float64Array, h = 1e-5, indices?: readonly number[]): Float64Array {
  const at = indices ?? Array.from(x, (_, i) => i);
  const g = new Float64Array(at.length);
  const xp = Float64Array.from(x);
  at.forEach((i, k) => {
    const v = xp[i]!;
    xp[i] = v + h;
    const fp = f(xp);
    xp[i] = v - h;
    const fm = f(xp);
    xp[i] = v;
    g[k] = (fp - fm) / (2 * h);
  });
  return g;
}

/** Σ w·y: turns a tensor-valued function into the scalar loss whose gradient backward() computes. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
