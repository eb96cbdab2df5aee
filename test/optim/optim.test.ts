import { describe, it, expect, beforeAll } from 'vitest';
import { gpu, randomArray, maxRelError } from '../helpers.js';
import { tensor, SGD, Adam, StepLR, CosineAnnealingLR, type Tensor } from '../../src/index.js';

beforeAll(async () => {
  await gpu();
});

/** Runs `steps` updates with fixed per-step gradients on a GPU optimizer. */
async function runGpu(make: (p: Tensor[]) => SGD | Adam, p0: Float64Array, grads: Float64Array[]): Promise<Float32Array> {
  const p = tensor(Float32Array.from(p0), [p0.length], { requiresGrad: true });
  const opt = make([p]);
  for (const g of grads) {
    p.grad = tensor(Float32Array.from(g), [g.length]);
    opt.step();
    opt.zeroGrad();
  }
  return p.toArray();
}

/** PyTorch's SGD in float64. */
function sgdReference(
  p0: Float64Array,
  grads: Float64Array[],
  o: { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean },
): Float64Array {
  const p = Float64Array.from(p0);
  let buf: Float64Array | null = null;
  for (const g of grads) {
    const d = g.map((gi, i) => gi + o.weightDecay * p[i]!);
    if (o.momentum) {
      buf = buf ? buf.map((b, i) => o.momentum * b + (1 - o.dampening) * d[i]!) : Float64Array.from(d);
      const step = o.nesterov ? d.map((di, i) => di + o.momentum * buf![i]!) : buf;
      step.forEach((s, i) => (p[i]! -= o.lr * s));
    } else {
      d.forEach((s, i) => (p[i]! -= o.lr * s));
    }
  }
  return p;
}

/** PyTorch's Adam in float64. */
function adamReference(
  p0: Float64Array,
  grads: Float64Array[],
  o: { lr: number; b1: number; b2: number; eps: number; wd: number },
): Float64Array {
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  grads.forEach((g, t) => {
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]! + o.wd * p[i]!;
      m[i] = o.b1 * m[i]! + (1 - o.b1) * gi;
      v[i] = o.b2 * v[i]! + (1 - o.b2) * gi * gi;
      const mh = m[i]! / (1 - o.b1 ** (t + 1));
      const vh = v[i]! / (1 - o.b2 ** (t + 1));
      p[i]! -= (o.lr * mh) / (Math.sqrt(vh) + o.eps);
    }
  });
  return p;
}

const n = 1001;
const p0 = randomArray(n, 1);
const grads = [2, 3, 4, 5, 6].map((s) => randomArray(n, s));

describe('SGD', () => {
  for (const o of [
    { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 1e-2, momentum: 0.99, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 1e-2, nesterov: true },
  ]) {
    it(`matches PyTorch's update (${JSON.stringify(o)})`, async () => {
      const got = await runGpu((p) => new SGD(p, o), p0, grads);
      expect(maxRelError(got, sgdReference(p0, grads, o))).toBeLessThan(1e-6);
    });
  }

  it('rejects nesterov without momentum and a negative lr', () => {
    expect(() => new SGD([], { lr: 0.1, nesterov: true })).toThrow('SGD: nesterov momentum requires a momentum and zero dampening');
    expect(() => new SGD([], { lr: -1 })).toThrow('SGD: lr must be a non-negative number, got -1');
  });

  it('skips parameters without a gradient', async () => {
    const p = tensor([1, 2], [2], { requiresGrad: true });
    new SGD([p], { lr: 1, momentum: 0.5 }).step();
    expect(Array.from(await p.toArray())).toEqual([1, 2]);
  });
});

describe('Adam', () => {
  it("matches PyTorch's update with bias correction and weight decay", async () => {
    const o = { lr: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 1e-2 };
    const got = await runGpu((p) => new Adam(p, { lr: o.lr, weightDecay: o.wd }), p0, grads);
    expect(maxRelError(got, adamReference(p0, grads, o))).toBeLessThan(1e-5);
  });
});

describe('StepLR', () => {
  it('multiplies the rate by gamma every stepSize iterations (the paper: ×0.1 every 25,000)', () => {
    const opt = new SGD([], { lr: 1e-4, momentum: 0.99 });
    const sched = new StepLR(opt, { stepSize: 25_000, gamma: 0.1 });
    const seen: number[] = [];
    for (let it = 1; it <= 75_000; it++) {
      sched.step();
      if (it === 24_999 || it === 25_000 || it === 50_000 || it === 75_000) seen.push(opt.lr);
    }
    expect(seen[0]).toBeCloseTo(1e-4, 12);
    expect(seen[1]).toBeCloseTo(1e-5, 12);
    expect(seen[2]).toBeCloseTo(1e-6, 12);
    expect(seen[3]).toBeCloseTo(1e-7, 12);
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow('StepLR: stepSize must be at least 1, got 0');
  });
});

describe('CosineAnnealingLR', () => {
  it("follows PyTorch's closed form: from lr down to etaMin at tMax, then up again", () => {
    const opt = new Adam([], { lr: 1e-3 });
    const sched = new CosineAnnealingLR(opt, { tMax: 600, etaMin: 1e-5 });
    const seen = new Map<number, number>();
    for (let it = 1; it <= 900; it++) {
      sched.step();
      if ([1, 150, 300, 450, 600, 900].includes(it)) seen.set(it, opt.lr);
    }
    // etaMin + (lr − etaMin)(1 + cos(π t / 600)) / 2, by hand: cos at t = 150, 300, 450 is ½√2, 0, −½√2.
    const at = (c: number) => 1e-5 + (0.99e-3 * (1 + c)) / 2;
    expect(seen.get(1)).toBeCloseTo(at(Math.cos(Math.PI / 600)), 15);
    expect(seen.get(150)).toBeCloseTo(at(Math.SQRT1_2), 15);
    expect(seen.get(300)).toBeCloseTo(at(0), 15);
    expect(seen.get(450)).toBeCloseTo(at(-Math.SQRT1_2), 15);
    expect(seen.get(600)).toBeCloseTo(1e-5, 15);
    expect(seen.get(900)).toBeCloseTo(at(0), 15);
    expect(() => new CosineAnnealingLR(opt, { tMax: 0 })).toThrow('CosineAnnealingLR: tMax must be at least 1, got 0');
    expect(() => new CosineAnnealingLR(opt, { tMax: 10, etaMin: -1 })).toThrow(
      'CosineAnnealingLR: etaMin must be a non-negative number, got -1',
    );
  });
});
