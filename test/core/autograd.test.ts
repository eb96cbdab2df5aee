// Autograd semantics, checked against what PyTorch does: accumulation, reuse, noGrad, detach and
// the errors of backward().
import { beforeAll, describe, expect, it } from 'vitest';
import { add, concat, exp, expand, mul, noGrad, isGradEnabled, reshape, sub, sum, tensor, tidy, type Tensor } from '../../src/index.js';
import { gpu } from '../helpers.js';

beforeAll(async () => {
  await gpu();
});

async function values(t: Tensor | null): Promise<number[]> {
  if (!t) throw new Error('expected a tensor, got null');
  return Array.from(await t.toArray());
}

function close(actual: number[], expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(v, `element ${i}`).toBeCloseTo(expected[i]!, -Math.log10(tol)));
}

describe('gradient accumulation across backward() calls', () => {
  it('mul: a second backward adds to .grad', async () => {
    const a = tensor([1, 2, 3], [3], { requiresGrad: true });
    const b = tensor([4, 5, 6], [3], { requiresGrad: true });
    sum(mul(a, b)).backward();
    sum(mul(a, b)).backward();
    close(await values(a.grad), [8, 10, 12]);
    close(await values(b.grad), [2, 4, 6]);
  });

  it('add: both operands get their own gradient buffer, so accumulating one leaves the other alone', async () => {
    // add's backward hands both operands a view of the same upstream gradient.
    const a = tensor([1, 2, 3], [3], { requiresGrad: true });
    const b = tensor([4, 5, 6], [3], { requiresGrad: true });
    sum(add(a, b)).backward();
    close(await values(a.grad), [1, 1, 1]);
    sum(add(a, b)).backward();
    close(await values(a.grad), [2, 2, 2]);
    close(await values(b.grad), [2, 2, 2]);
    sum(mul(a, 3)).backward();
    close(await values(a.grad), [5, 5, 5]);
    close(await values(b.grad), [2, 2, 2]);
  });

  it('reshape: the leaf gradient does not alias the upstream gradient', async () => {
    const x = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    const g = tensor([1, 2, 3, 4], [4]);
    reshape(x, [4]).backward(g);
    reshape(x, [4]).backward(g);
    close(await values(x.grad), [2, 4, 6, 8]);
    // The caller's gradient tensor is never written to.
    close(await values(g), [1, 2, 3, 4]);
  });

  it('a leaf given its own gradient accumulates without touching the given tensor', async () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const g = tensor([3, 4], [2]);
    x.backward(g);
    x.backward(g);
    close(await values(x.grad), [6, 8]);
    close(await values(g), [3, 4]);
  });
});

describe('a tensor used more than once gets the sum of its gradients', () => {
  it('add(x, x)', async () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    sum(add(x, x)).backward();
    close(await values(x.grad), [2, 2, 2]);
  });

  it('mul(x, x)', async () => {
    const x = tensor([1, -2, 3], [3], { requiresGrad: true });
    sum(mul(x, x)).backward();
    close(await values(x.grad), [2, -4, 6]);
  });

  it('x * 2 + x, x - x, and x through two branches of different shapes', async () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    sum(add(mul(x, 2), x)).backward();
    close(await values(x.grad), [3, 3, 3]);
    x.grad!.dispose();
    x.grad = null;

    sum(sub(x, x)).backward();
    close(await values(x.grad), [0, 0, 0]);
    x.grad!.dispose();
    x.grad = null;

    // y = [x, x] concatenated, z = expand(x) to [2, 3]: d/dx Σ(w·y) + Σ(z) = w[0:3] + w[3:6] + 2.
    const w = tensor([1, 2, 3, 4, 5, 6], [6]);
    add(sum(mul(concat([x, x], 0), w)), sum(expand(x, [2, 3]))).backward();
    close(await values(x.grad), [1 + 4 + 2, 2 + 5 + 2, 3 + 6 + 2]);
  });

  it('a user-given upstream gradient is not modified when x is used twice', async () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const g = tensor([5, 7], [2]);
    add(x, x).backward(g);
    close(await values(x.grad), [10, 14]);
    close(await values(g), [5, 7]);
  });
});

describe('noGrad', () => {
  it('records nothing and restores the previous state', async () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    expect(isGradEnabled()).toBe(true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return sum(exp(mul(x, x)));
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    expect(() => y.backward()).toThrow(
      'backward: tensor [] does not require grad (no input had requiresGrad, or it was made under noGrad)',
    );
    expect(x.grad).toBeNull();
  });

  it('restores the state when the function throws', () => {
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
  });

  it('results of ops on tensors without requiresGrad do not require grad', () => {
    const a = tensor([1, 2], [2]);
    const y = add(a, a);
    expect(y.requiresGrad).toBe(false);
    expect(y.isLeaf).toBe(true);
  });
});

describe('backward() errors', () => {
  it('a non-scalar output needs an explicit gradient', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    expect(() => mul(x, 2).backward()).toThrow(
      'backward: a gradient can only be implied for a one-element output, got shape [2, 3]; pass one',
    );
  });

  it('a gradient of the wrong shape is refused', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    expect(() => mul(x, 2).backward(tensor([1, 2], [2]))).toThrow('backward: gradient shape [2] does not match output [3]');
    // Same size, other shape: refused up front (as PyTorch does), not deep inside an op's backward.
    const y = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const w = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(() => mul(y, w).backward(tensor([1, 1, 1, 1, 1, 1], [3, 2]))).toThrow(
      'backward: gradient shape [3, 2] does not match output [2, 3]',
    );
    expect(() => mul(y, w).backward(tensor([1, 1, 1, 1, 1, 1], [6]))).toThrow('backward: gradient shape [6] does not match output [2, 3]');
  });

  it('a second backward through the same graph throws', async () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const loss = sum(exp(x));
    loss.backward();
    expect(() => loss.backward()).toThrow(
      'backward: the graph through sum was already used by a backward(); build it again to differentiate twice',
    );
    // The gradient of the first backward is intact.
    close(await values(x.grad), [1, 2, 3].map(Math.exp), 1e-4);
  });

  it('a graph that shares a used node throws too', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = exp(x);
    sum(y).backward();
    expect(() => sum(mul(y, 2)).backward()).toThrow('backward: the graph through exp was already used by a backward()');
  });
});

describe('leaves and detach', () => {
  it('leaf gradients have the leaf shapes under broadcasting; non-leaves keep no .grad', async () => {
    const a = tensor(new Array(8).fill(1), [2, 1, 4], { requiresGrad: true });
    const b = tensor([1, 2, 3], [3, 1], { requiresGrad: true });
    const c = mul(a, b);
    expect(c.shape).toEqual([2, 3, 4]);
    expect(c.isLeaf).toBe(false);
    sum(c).backward();
    expect(a.grad!.shape).toEqual([2, 1, 4]);
    expect(b.grad!.shape).toEqual([3, 1]);
    close(await values(a.grad), new Array(8).fill(6));
    close(await values(b.grad), [8, 8, 8]);
    expect(c.grad).toBeNull();
  });

  it('a scalar-shaped leaf ([]) gets a [] gradient', async () => {
    const s = tensor([3], [], { requiresGrad: true });
    const x = tensor([1, 2, 3], [3]);
    sum(mul(x, s)).backward();
    expect(s.grad!.shape).toEqual([]);
    close(await values(s.grad), [6]);
  });

  it('detach shares data, drops history, and stops gradients', async () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = mul(x, x);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    expect(d.buffer).toBe(y.buffer);
    close(await values(d), [1, 4, 9]);
    // x·detach(x²): the gradient is x² only, not 3x².
    sum(mul(x, d)).backward();
    close(await values(x.grad), [1, 4, 9]);
  });

  it('backward inside tidy keeps leaf gradients alive', async () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    tidy(() => {
      sum(mul(exp(x), 2)).backward();
    });
    expect(x.grad!.disposed).toBe(false);
    close(
      await values(x.grad),
      [1, 2, 3].map((v) => 2 * Math.exp(v)),
      1e-4,
    );
  });
});

describe('deep graphs', () => {
  it('backward through 1000 chained ops (no recursion limit) is exact', async () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    tidy(() => {
      let t = x;
      for (let i = 0; i < 1000; i++) t = i % 2 ? mul(t, 1.0005) : add(t, 0.25);
      sum(t).backward();
    });
    close(await values(x.grad), [1.0005 ** 500, 1.0005 ** 500], 1e-3);
  });
});
