// GPU memory: tidy() frees all but its result, dispose() is idempotent, a disposed tensor fails
// loudly, backward() leaves nothing but gradients behind, and the pool makes a training loop
// allocate nothing after its first step.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  concat,
  div,
  exp,
  expand,
  keep,
  log,
  mean,
  mul,
  narrow,
  relu,
  reshape,
  sqrt,
  sub,
  sum,
  tensor,
  tidy,
  zeros,
  type Context,
  type Tensor,
} from '../../src/index.js';
import { record } from '../../src/core/autograd.js';
import { sizeClass } from '../../src/device/buffer-pool.js';
import { mapRaw } from '../../src/ops/raw.js';
import { gpu, randomArray } from '../helpers.js';

let ctx: Context;
beforeAll(async () => {
  ctx = await gpu();
});

/** Bytes the pool owns in total (handed out + kept for reuse): grows only when it creates a buffer. */
function allocated(): number {
  const m = ctx.memory();
  return m.bytesInUse + m.pooledBytes;
}

/** A small network-like graph touching every glue op, its backward, two-pass reductions included. */
function lossOf(x: Tensor, w: Tensor, bias: Tensor): Tensor {
  const h = relu(add(mul(x, w), bias)); // [4, 8, 600] * [8, 1] + [8, 1]
  const joined = concat([h, exp(narrow(h, 1, 0, 3))], 1); // [4, 11, 600]
  const scaled = div(h, add(expand(reshape(bias, [1, 8, 1]), [4, 8, 1]), 1)); // [4, 8, 600]
  const s = sum(joined, [0, 2], true); // [1, 11, 1], two-pass
  const q = sqrt(add(mul(s, s), 1));
  return add(add(mean(log(q)), mean(sub(mean(joined, -1), 0.5))), mean(scaled));
}

describe('tidy', () => {
  it('frees every tensor made inside except the result (also nested, arrays and objects)', async () => {
    const x = tensor(randomArray(600, 1), [2, 300]);
    const before = ctx.memory().bytesInUse;
    const r = tidy(() => {
      const a = exp(x);
      const inner = tidy(() => [sum(a, 1), mul(a, 2)]);
      // The inner results moved to this scope: freed here unless returned.
      return { kept: add(inner[0]!, 1), also: [narrow(a, 1, 0, 10)] };
    });
    expect(ctx.memory().bytesInUse).toBe(before + sizeClass(2 * 4) + sizeClass(2 * 10 * 4));
    expect(r.kept.disposed).toBe(false);
    expect(r.also[0]!.disposed).toBe(false);
    const expected = randomArray(600, 1);
    const got = await r.kept.toArray();
    for (let row = 0; row < 2; row++) {
      let s = 0;
      for (let i = 0; i < 300; i++) s += Math.exp(Math.fround(expected[row * 300 + i]!));
      expect(got[row]! / (s + 1)).toBeCloseTo(1, 5);
    }
    r.kept.dispose();
    r.also[0]!.dispose();
    expect(ctx.memory().bytesInUse).toBe(before);
    x.dispose();
  });

  it('keep() lets a tensor outlive its scope', () => {
    const before = ctx.memory().bytesInUse;
    let kept: Tensor | undefined;
    tidy(() => {
      kept = keep(zeros([64]));
      zeros([64]);
    });
    expect(kept!.disposed).toBe(false);
    expect(ctx.memory().bytesInUse).toBe(before + sizeClass(256));
    kept!.dispose();
    expect(ctx.memory().bytesInUse).toBe(before);
  });

  it('frees what it made when the function throws', () => {
    const before = ctx.memory().bytesInUse;
    const x = zeros([2, 3]);
    expect(() =>
      tidy(() => {
        exp(x);
        add(x, zeros([5])); // shape error after two tensors were made
      }),
    ).toThrow('add: shapes [2, 3] and [5] cannot be broadcast');
    x.dispose();
    expect(ctx.memory().bytesInUse).toBe(before);
  });

  it('refuses an async function', () => {
    const before = ctx.memory().bytesInUse;
    expect(() => tidy(async () => zeros([3]))).toThrow('tidy: the function must be synchronous (it returned a Promise)');
    expect(ctx.memory().bytesInUse).toBe(before);
  });

  it('20 forward+backward steps allocate nothing new and return to the baseline', async () => {
    const x = tensor(randomArray(4 * 8 * 600, 2), [4, 8, 600]);
    const w = tensor(randomArray(8, 3, 0.5, 1.5), [8, 1], { requiresGrad: true });
    const bias = tensor(randomArray(8, 4, 0.1, 0.2), [8, 1], { requiresGrad: true });
    const step = (): void =>
      tidy(() => {
        lossOf(x, w, bias).backward();
      });
    // Step 1 creates w.grad and bias.grad; step 2 is the first to accumulate into them while its
    // own gradients are live, so it may need a buffer or two more. From then on: steady state.
    step();
    step();
    await ctx.sync();
    const baseline = ctx.memory();
    const total = allocated();
    for (let i = 0; i < 20; i++) step();
    await ctx.sync();
    const m = ctx.memory();
    expect(m.bytesInUse).toBe(baseline.bytesInUse);
    expect(m.liveBuffers).toBe(baseline.liveBuffers);
    expect(m.pooledBytes).toBe(baseline.pooledBytes);
    expect(allocated()).toBe(total);
    // Gradients accumulated over 22 steps: 22 times one step's gradient.
    const g22 = await w.grad!.toArray();
    w.grad!.dispose();
    w.grad = null;
    step();
    const g1 = await w.grad!.toArray();
    g1.forEach((v, i) => expect(g22[i]! / 22).toBeCloseTo(v, 5));
    for (const t of [x, w, bias, w.grad!, bias.grad!]) t.dispose();
  });

  it('with gradients freed every step (zeroGrad), memory returns exactly to the baseline', async () => {
    const x = tensor(randomArray(4 * 8 * 600, 5), [4, 8, 600]);
    const w = tensor(randomArray(8, 6, 0.5, 1.5), [8, 1], { requiresGrad: true });
    const bias = tensor(randomArray(8, 7, 0.1, 0.2), [8, 1], { requiresGrad: true });
    const baseline = ctx.memory().bytesInUse;
    tidy(() => lossOf(x, w, bias).backward());
    const total = allocated();
    for (let i = 0; i < 20; i++) {
      for (const p of [w, bias]) {
        p.grad!.dispose();
        p.grad = null;
      }
      const loss = tidy(() => {
        const l = lossOf(x, w, bias);
        l.backward();
        return l.detach();
      });
      expect(Number.isFinite(await loss.item())).toBe(true);
      loss.dispose();
    }
    expect(allocated()).toBe(total);
    for (const p of [w, bias]) p.grad!.dispose();
    expect(ctx.memory().bytesInUse).toBe(baseline);
    for (const t of [x, w, bias]) t.dispose();
  });
});

describe('backward', () => {
  it('leaves only the leaf gradients behind (internals and temporaries are freed)', () => {
    const x = tensor(randomArray(4 * 8 * 600, 8), [4, 8, 600]);
    const w = tensor(randomArray(8, 9, 0.5, 1.5), [8, 1], { requiresGrad: true });
    const bias = tensor(randomArray(8, 10, 0.1, 0.2), [8, 1], { requiresGrad: true });
    const loss = lossOf(x, w, bias);
    const before = ctx.memory().bytesInUse;
    loss.backward();
    expect(ctx.memory().bytesInUse).toBe(before + 2 * sizeClass(8 * 4));
  });

  it("runs each node's backward in a scope that frees all it made but the gradients it returns", async () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    // A backward that leaves two temporaries (a buffer and a view) for the engine to free.
    const y = record('twice', [x], mapRaw('twice', 'mul', x, 2), (g) => {
      const doubled = mapRaw('twice', 'mul', g, 2);
      doubled.withShape([1, 3]);
      return [mapRaw('twice', 'mul', doubled, 1)];
    });
    const loss = sum(y);
    const before = ctx.memory().bytesInUse;
    loss.backward();
    expect(ctx.memory().bytesInUse).toBe(before + sizeClass(3 * 4));
    expect(Array.from(await x.grad!.toArray())).toEqual([2, 2, 2]);
    for (const t of [x, y, loss, x.grad!]) t.dispose();
  });

  it('frees a full-size temporary of a backward before the next gradient asks for memory', () => {
    // Broadcasting backward: the small operand's gradient sums a full-size product (mul(b, a)) or two
    // (div(a, b)), made before the large operand's full-size gradient. The nested tidy of binary.ts
    // frees them first, so that gradient may reuse their memory: one full-size tensor fewer at once.
    const full = sizeClass(4 * 8 * 600 * 4);
    const cases: [string, (a: Tensor, b: Tensor) => Tensor, number][] = [
      ['mul', (a, b) => mul(b, a), 1],
      ['div', div, 2],
    ];
    for (const [name, op, fullAtOnce] of cases) {
      const a = tensor(randomArray(4 * 8 * 600, 11, 0.5, 1.5), [4, 8, 600], { requiresGrad: true });
      const b = tensor(randomArray(8, 12, 0.5, 1.5), [8, 1], { requiresGrad: true });
      const y = op(a, b);
      const seed = tensor(new Float32Array(y.size).fill(1), y.shape);
      ctx.pool.resetPeak();
      const start = ctx.memory().bytesInUse;
      y.backward(seed);
      const peak = ctx.memory().peakBytes - start;
      expect(peak, name).toBeGreaterThanOrEqual(fullAtOnce * full);
      // The rest is small: the sums' partials and the small operand's gradient.
      expect(peak, name).toBeLessThan((fullAtOnce + 0.5) * full);
      for (const t of [a, b, y, seed, a.grad!, b.grad!]) t.dispose();
    }
  });

  it('frees what a backward made before it threw, and the gradients still waiting', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = record('fails', [x], mapRaw('fails', 'mul', x, 2), (g) => {
      mapRaw('fails', 'mul', g, 2);
      throw new Error('fails: backward broke');
    });
    const loss = sum(y);
    const before = ctx.memory().bytesInUse;
    expect(() => loss.backward()).toThrow('fails: backward broke');
    expect(ctx.memory().bytesInUse).toBe(before);
    for (const t of [x, y, loss]) t.dispose();
  });
});

describe('dispose', () => {
  it('is safe twice and frees the buffer once', () => {
    const before = ctx.memory().bytesInUse;
    const t = zeros([10, 10]);
    expect(ctx.memory().bytesInUse).toBe(before + sizeClass(400));
    t.dispose();
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(ctx.memory().bytesInUse).toBe(before);
    expect(String(t)).toBe('Tensor([10, 10], disposed)');
  });

  it('views keep the buffer until the last one is disposed', () => {
    const before = ctx.memory().bytesInUse;
    const t = zeros([4, 4]);
    const v = reshape(t, [16]);
    t.dispose();
    expect(ctx.memory().bytesInUse).toBe(before + sizeClass(64));
    v.dispose();
    expect(ctx.memory().bytesInUse).toBe(before);
  });

  it('using a disposed tensor throws an error naming the op and the shape', async () => {
    const t = zeros([2, 3]);
    const u = zeros([2, 3]);
    t.dispose();
    await expect(t.toArray()).rejects.toThrow('toArray: tensor [2, 3] was disposed');
    expect(() => t.buffer).toThrow('use: tensor [2, 3] was disposed');
    expect(() => add(t, u)).toThrow('add: tensor [2, 3] was disposed');
    expect(() => add(u, t)).toThrow('add: tensor [2, 3] was disposed');
    expect(() => exp(t)).toThrow('exp: tensor [2, 3] was disposed');
    expect(() => reshape(t, [6])).toThrow('reshape: tensor [2, 3] was disposed');
    // The context is still usable afterwards.
    expect(Array.from(await add(u, 1).toArray())).toEqual([1, 1, 1, 1, 1, 1]);
    u.dispose();
  });
});

describe('buffer pool', () => {
  it('hands a freed buffer to the next tensor of the same size class', () => {
    const a = zeros([1000]);
    const buffer = a.buffer;
    a.dispose();
    const b = zeros([1010]); // 4000 and 4040 bytes: both in the 4096-byte class
    expect(b.buffer).toBe(buffer);
    b.dispose();
  });

  it('size classes waste at most 12.5% and are never smaller than asked', () => {
    for (const bytes of [1, 16, 255, 256, 4000, 65536, 65537, 100_000, 3_000_000, 67_108_868]) {
      const c = sizeClass(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      if (bytes > 256) expect(c / bytes).toBeLessThanOrEqual(1.125 + 1e-9);
    }
  });

  it('tracks the peak', () => {
    ctx.pool.resetPeak();
    const start = ctx.memory();
    expect(start.peakBytes).toBe(start.bytesInUse);
    const t = zeros([1 << 16]);
    t.dispose();
    const m = ctx.memory();
    expect(m.peakBytes).toBe(start.bytesInUse + sizeClass(1 << 18));
    expect(m.bytesInUse).toBe(start.bytesInUse);
  });
  it('emptyCache() frees the idle buffers the pool keeps and leaves live tensors working', async () => {
    const live = tensor([1, 2, 3]);
    tidy(() => zeros([1000]));
    await ctx.sync();
    expect(ctx.memory().pooledBytes).toBeGreaterThan(0);
    const inUse = ctx.memory().bytesInUse;
    ctx.emptyCache();
    expect(ctx.memory().pooledBytes).toBe(0);
    expect(ctx.memory().bytesInUse).toBe(inUse);
    expect(Array.from(await live.toArray())).toEqual([1, 2, 3]);
    live.dispose();
  });
});
