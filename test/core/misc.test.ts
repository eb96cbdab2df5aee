// Creation ops, greater, sumTo, empty tensors, and the ordering guarantees of the context: a buffer
// reused from the pool, concurrent readbacks, and the uniform cache rolling over.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  concat,
  exp,
  full,
  greater,
  mean,
  mul,
  mulScalar,
  ones,
  sum,
  sumTo,
  tensor,
  tidy,
  zeros,
  type Context,
  type Tensor,
} from '../../src/index.js';
import { gpu, maxRelError, randomArray } from '../helpers.js';
import * as ref from './reference.js';

let ctx: Context;
beforeAll(async () => {
  ctx = await gpu();
});

const values = async (t: Tensor): Promise<number[]> => Array.from(await t.toArray());

describe('creation', () => {
  it('full, zeros, ones', async () => {
    expect(await values(full([2, 3], -1.5))).toEqual(new Array(6).fill(-1.5));
    expect(await values(zeros([4]))).toEqual([0, 0, 0, 0]);
    expect(await values(ones([1, 2, 1]))).toEqual([1, 1]);
    const w = zeros([3], { requiresGrad: true });
    expect(w.requiresGrad).toBe(true);
    expect(w.isLeaf).toBe(true);
  });

  it('tensor() takes any array-like, including a Float32Array view with an offset', async () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 9]);
    expect(await values(tensor(backing.subarray(2, 5)))).toEqual([1, 2, 3]);
    expect(await values(tensor(new Float64Array([0.5, 1.5]), [2, 1]))).toEqual([0.5, 1.5]);
    expect(await values(tensor([7], []))).toEqual([7]);
    expect(await tensor([7], []).item()).toBe(7);
  });
});

describe('greater and sumTo', () => {
  it('greater broadcasts and gives 1 where a > b, else 0', async () => {
    const a = randomArray(24, 1);
    const b = randomArray(4, 2);
    const expected = ref.binary(a, [2, 3, 4], Float64Array.from(Float32Array.from(b)), [4], (x, y) => (Math.fround(x) > y ? 1 : 0));
    expect(await values(greater(tensor(a, [2, 3, 4]), tensor(b, [4])))).toEqual(Array.from(expected.data));
    expect(await values(greater(tensor([1, 2, 3]), tensor([2, 2, 2])))).toEqual([0, 0, 1]);
  });

  it('sumTo undoes broadcasting', async () => {
    const x = Float64Array.from(Float32Array.from(randomArray(2 * 3 * 4, 3)));
    const g = tensor(x, [2, 3, 4]);
    // Target shape, and the axes of [2, 3, 4] it sums over.
    const cases: [number[], number[]][] = [
      [
        [3, 1],
        [0, 2],
      ],
      [[4], [0, 1]],
      [[2, 1, 4], [1]],
      [
        [1, 1, 1],
        [0, 1, 2],
      ],
      [[2, 3, 4], []],
    ];
    for (const [shape, dims] of cases) {
      const r = sumTo(g, shape);
      expect(r.shape).toEqual(shape);
      const expected = ref.reduce(x, [2, 3, 4], dims, true, false);
      expect(maxRelError(await r.toArray(), expected.data), JSON.stringify(shape)).toBeLessThan(1e-6);
    }
    expect(() => sumTo(g, [1, 2, 3, 4])).toThrow('sumTo: cannot reduce [2, 3, 4] to the larger rank of [1, 2, 3, 4]');
  });
});

describe('empty tensors', () => {
  it('flow through elementwise ops, concat and reductions like PyTorch', async () => {
    const e = zeros([0, 3]);
    expect(e.size).toBe(0);
    expect(await values(e)).toEqual([]);
    expect(await values(add(e, tensor([1, 2, 3])))).toEqual([]);
    expect(await values(concat([e, ones([2, 3])], 0))).toEqual([1, 1, 1, 1, 1, 1]);
    // Sum over an empty axis is 0, the mean NaN (torch.sum / torch.mean).
    expect(await values(sum(e, 0))).toEqual([0, 0, 0]);
    expect(await sum(e).item()).toBe(0);
    expect((await values(mean(e, 0))).every(Number.isNaN)).toBe(true);
    expect(await values(sum(e, 1))).toEqual([]);
  });
});

describe('ordering on the GPU', () => {
  it('a buffer freed while a recorded kernel still reads it is refilled only after that kernel ran', async () => {
    const a = tensor([1, 2, 3, 4]);
    const b = exp(a); // recorded, not yet submitted
    const buffer = a.buffer;
    a.dispose();
    const c = tensor([50, 60, 70, 80]); // takes a's buffer from the pool
    expect(c.buffer).toBe(buffer);
    expect(maxRelError(await b.toArray(), [1, 2, 3, 4].map(Math.exp))).toBeLessThan(1e-6);
    expect(await values(c)).toEqual([50, 60, 70, 80]);
  });

  it('concurrent readbacks each get their own data', async () => {
    const ts = Array.from({ length: 8 }, (_, i) => full([100 * (i + 1)], i));
    const arrays = await Promise.all(ts.map((t) => t.toArray()));
    arrays.forEach((a, i) => {
      expect(a.length).toBe(100 * (i + 1));
      expect(a.every((v) => v === i)).toBe(true);
    });
  });

  it('more distinct kernel parameters than the uniform cache holds (4096) stay correct', async () => {
    const x = tensor([1, 2]);
    const kept: [number, Tensor][] = [];
    tidy(() => {
      for (let i = 0; i < 4500; i++) {
        const y = mulScalar(x, i + 0.5);
        if (i % 500 === 0 || i > 4490) kept.push([i + 0.5, y]);
      }
      return kept.map(([, t]) => t);
    });
    for (const [s, y] of kept) expect(await values(y)).toEqual([s, 2 * s]);
    await ctx.sync();
  });

  it('a long chain of dispatches (over the 256 per submission) is exact', async () => {
    const x = tensor([1, -1]);
    const y = tidy(() => {
      let t = x;
      for (let i = 0; i < 600; i++) t = mul(add(t, 1), 1); // +1 each step
      return t;
    });
    expect(await values(y)).toEqual([601, 599]);
  });
});
