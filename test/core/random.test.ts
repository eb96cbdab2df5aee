// randn / rand / manualSeed: reproducible streams, the right distributions, and ranges.
import { beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, rand, randn } from '../../src/index.js';
import { gpu } from '../helpers.js';

beforeAll(async () => {
  await gpu();
});

const N = 100_000;

function moments(x: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of x) {
    s += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = s / x.length;
  let q = 0;
  for (const v of x) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / (x.length - 1)), min, max };
}

function differing(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

describe('randn', () => {
  it('same seed, same values; another seed, other values', async () => {
    const a = await randn([N], { seed: 42 }).toArray();
    const b = await randn([N], { seed: 42 }).toArray();
    const c = await randn([N], { seed: 43 }).toArray();
    expect(differing(a, b)).toBe(0);
    expect(differing(a, c)).toBeGreaterThan(N * 0.99);
  });

  it('element i depends only on (seed, i), not on the tensor size', async () => {
    const small = await randn([10], { seed: 7 }).toArray();
    const large = await randn([2, 500], { seed: 7 }).toArray();
    expect(Array.from(small)).toEqual(Array.from(large.subarray(0, 10)));
  });

  it('standard normal: mean 0, std 1, 68.3% within one std, finite', async () => {
    const x = await randn([N], { seed: 1 }).toArray();
    const m = moments(x);
    expect(Math.abs(m.mean)).toBeLessThan(0.015); // 5 standard errors
    expect(Math.abs(m.std - 1)).toBeLessThan(0.015);
    expect(x.every(Number.isFinite)).toBe(true);
    const within = x.filter((v) => Math.abs(v) < 1).length / N;
    expect(Math.abs(within - 0.6827)).toBeLessThan(0.01);
    // Tails exist on both sides, about 0.27% beyond 3 std.
    const tails = x.filter((v) => Math.abs(v) > 3).length / N;
    expect(tails).toBeGreaterThan(0.0015);
    expect(tails).toBeLessThan(0.004);
  });

  it('mean and std options', async () => {
    const m = moments(await randn([N], { seed: 2, mean: 3, std: 0.5 }).toArray());
    expect(Math.abs(m.mean - 3)).toBeLessThan(0.01);
    expect(Math.abs(m.std - 0.5)).toBeLessThan(0.01);
  });

  it('manualSeed makes unseeded calls reproducible, each call its own stream', async () => {
    manualSeed(1234);
    const a1 = await randn([1000]).toArray();
    const a2 = await randn([1000]).toArray();
    manualSeed(1234);
    const b1 = await randn([1000]).toArray();
    const b2 = await randn([1000]).toArray();
    expect(differing(a1, b1)).toBe(0);
    expect(differing(a2, b2)).toBe(0);
    expect(differing(a1, a2)).toBeGreaterThan(990);
    manualSeed(4321);
    expect(differing(await randn([1000]).toArray(), a1)).toBeGreaterThan(990);
  });

  it('requiresGrad makes a leaf', () => {
    const w = randn([3, 3], { seed: 3, requiresGrad: true });
    expect(w.requiresGrad).toBe(true);
    expect(w.isLeaf).toBe(true);
    expect(w.shape).toEqual([3, 3]);
  });
});

describe('rand', () => {
  it('uniform in [0, 1) by default', async () => {
    const x = await rand([N], { seed: 5 }).toArray();
    const m = moments(x);
    expect(m.min).toBeGreaterThanOrEqual(0);
    expect(m.max).toBeLessThan(1);
    expect(m.min).toBeLessThan(0.001);
    expect(m.max).toBeGreaterThan(0.999);
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(m.std - Math.sqrt(1 / 12))).toBeLessThan(0.005);
    // Ten equal bins hold 10% each.
    const bins = new Array(10).fill(0);
    for (const v of x) bins[Math.floor(v * 10)]++;
    for (const b of bins) expect(Math.abs(b / N - 0.1)).toBeLessThan(0.006);
  });

  it('in [low, high)', async () => {
    const x = await rand([N], { seed: 6, low: -2, high: 3 }).toArray();
    const m = moments(x);
    expect(m.min).toBeGreaterThanOrEqual(-2);
    expect(m.max).toBeLessThan(3);
    expect(m.min).toBeLessThan(-1.99);
    expect(m.max).toBeGreaterThan(2.99);
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(0.025);
    expect(Math.abs(m.std - 5 / Math.sqrt(12))).toBeLessThan(0.025);
  });

  it('is seeded like randn', async () => {
    const a = await rand([1000], { seed: 9 }).toArray();
    const b = await rand([1000], { seed: 9 }).toArray();
    const c = await rand([1000], { seed: 10 }).toArray();
    expect(differing(a, b)).toBe(0);
    expect(differing(a, c)).toBeGreaterThan(990);
  });
});
