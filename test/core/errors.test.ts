// Every user error is thrown at once, names the op and says what was wrong, exactly.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  concat,
  div,
  exp,
  expand,
  getContext,
  greater,
  mean,
  mul,
  narrow,
  reshape,
  sub,
  sum,
  tensor,
  tidy,
  zeros,
  type Context,
  type Tensor,
} from '../../src/index.js';
import { sizeClass } from '../../src/device/buffer-pool.js';
import { gpu } from '../helpers.js';

let ctx: Context;
beforeAll(async () => {
  ctx = await gpu();
});

const t = (shape: number[]): Tensor => zeros(shape);

describe('shape errors', () => {
  it('broadcasting', () => {
    expect(() => add(t([2, 3]), t([4]))).toThrow('add: shapes [2, 3] and [4] cannot be broadcast (dimension 1 of the result: 3 vs 4)');
    expect(() => mul(t([2, 3, 4]), t([3, 2]))).toThrow(
      'mul: shapes [2, 3, 4] and [3, 2] cannot be broadcast (dimension 2 of the result: 4 vs 2)',
    );
    expect(() => sub(t([5]), t([2, 4]))).toThrow('sub: shapes [5] and [2, 4] cannot be broadcast (dimension 1 of the result: 5 vs 4)');
    expect(() => div(t([2, 16, 4, 4, 4]), t([1, 8, 1, 1, 1]))).toThrow(
      'div: shapes [2, 16, 4, 4, 4] and [1, 8, 1, 1, 1] cannot be broadcast (dimension 1 of the result: 16 vs 8)',
    );
    expect(() => greater(t([3]), t([2]))).toThrow('greater: shapes [3] and [2] cannot be broadcast (dimension 0 of the result: 3 vs 2)');
  });

  it('reshape and view', () => {
    const x = t([2, 3]);
    expect(() => reshape(x, [4])).toThrow('reshape: cannot view shape [2, 3] (6 elements) as [4] (4 elements)');
    expect(() => reshape(x, [4, -1])).toThrow('reshape: cannot view shape [2, 3] (6 elements) as [4, -1]');
    expect(() => reshape(x, [0, -1])).toThrow('reshape: cannot view shape [2, 3] (6 elements) as [0, -1]');
    expect(() => reshape(x, [-1, -1])).toThrow('reshape: only one dimension can be -1, got [-1, -1]');
    expect(() => reshape(x, [-2, -3])).toThrow('reshape: shape must be an array of non-negative integers, got [-2,-3]');
    expect(() => x.withShape([7])).toThrow('reshape: cannot view shape [2, 3] (6 elements) as [7] (7 elements)');
  });

  it('concat', () => {
    expect(() => concat([t([2, 3]), t([2, 4])], 0)).toThrow(
      'concat: tensor 1 has shape [2, 4], incompatible with [2, 3] along dimension 0 (all other dimensions must match)',
    );
    expect(() => concat([t([2, 3]), t([2, 3]), t([6])], 1)).toThrow(
      'concat: tensor 2 has shape [6], incompatible with [2, 3] along dimension 1 (all other dimensions must match)',
    );
    expect(() => concat([t([1, 2, 3]), t([1, 5, 3])], -1)).toThrow(
      'concat: tensor 1 has shape [1, 5, 3], incompatible with [1, 2, 3] along dimension 2 (all other dimensions must match)',
    );
    expect(() => concat([], 0)).toThrow('concat: expected at least one tensor, got none');
    expect(() => concat([t([2, 3])], 2)).toThrow('concat: dimension 2 out of range for a tensor of rank 2 (expected -2 to 1)');
  });

  it('dimensions of sum, mean and narrow', () => {
    const x = t([2, 3]);
    expect(() => sum(x, 2)).toThrow('sum: dimension 2 out of range for a tensor of rank 2 (expected -2 to 1)');
    expect(() => mean(x, -3)).toThrow('mean: dimension -3 out of range for a tensor of rank 2 (expected -2 to 1)');
    expect(() => sum(x, [0, 5])).toThrow('sum: dimension 5 out of range for a tensor of rank 2 (expected -2 to 1)');
    expect(() => sum(x, 0.5)).toThrow('sum: dimension 0.5 out of range for a tensor of rank 2 (expected -2 to 1)');
    expect(() => sum(x, [0, -2])).toThrow('sum: dimension list [0,-2] repeats a dimension');
    expect(() => narrow(x, 2, 0, 1)).toThrow('narrow: dimension 2 out of range for a tensor of rank 2 (expected -2 to 1)');
    expect(() => narrow(x, 1, 2, 2)).toThrow('narrow: slice [2, 4) is outside dimension 1 of size 3 (shape [2, 3])');
    expect(() => narrow(x, -1, -1, 1)).toThrow('narrow: slice [-1, 0) is outside dimension 1 of size 3 (shape [2, 3])');
  });

  it('expand', () => {
    expect(() => expand(t([2, 3]), [3, 3])).toThrow('expand: cannot expand shape [2, 3] to [3, 3] (each dimension must match or be 1)');
    expect(() => expand(t([2, 3]), [3])).toThrow('expand: cannot expand shape [2, 3] to [3] (each dimension must match or be 1)');
  });

  it('tensor(), item() and ranks', async () => {
    expect(() => tensor([1, 2, 3, 4, 5], [2, 3])).toThrow('tensor: data has 5 elements but shape [2, 3] needs 6');
    expect(() => tensor([1, 2], [1])).toThrow('tensor: data has 2 elements but shape [1] needs 1');
    expect(() => tensor([1, 2], [2.5])).toThrow('tensor: shape must be an array of non-negative integers, got [2.5]');
    await expect(t([2]).item()).rejects.toThrow('item: tensor must have one element, got shape [2]');
    const rank9 = [1, 1, 1, 1, 1, 1, 1, 1, 2];
    expect(() => add(t(rank9), t([2]))).toThrow(
      'add: tensors of rank 9 are not supported (at most 8), got shape [1, 1, 1, 1, 1, 1, 1, 1, 2]',
    );
    expect(() => sum(t(rank9))).toThrow('sum: tensors of rank 9 are not supported (at most 8), got shape [1, 1, 1, 1, 1, 1, 1, 1, 2]');
  });

  it('sizes over the adapter limits', () => {
    const { maxBufferSize, maxStorageBufferBindingSize } = ctx.limits;
    const over = Math.floor(maxBufferSize / 4) + 1;
    expect(() => zeros([over])).toThrow(
      `empty: shape [${over}] needs ${over * 4} bytes, over the adapter's maxBufferSize (${maxBufferSize})`,
    );
    // A tensor the adapter can allocate but not bind: the pool rounds it up to its size class.
    const n = Math.floor(maxStorageBufferBindingSize / 4) + 1024;
    const pooled = sizeClass(n * 4);
    if (pooled <= maxBufferSize) {
      expect(() => tidy(() => zeros([n]))).toThrow(
        `full: binding 'out' is ${pooled} bytes, over the adapter's maxStorageBufferBindingSize (${maxStorageBufferBindingSize} ` +
          `bytes); use a smaller batch or volume`,
      );
    }
    ctx.pool.trim();
  });
});

describe('dispatch checks the op against the kernel it names', () => {
  const base = () => {
    const x = zeros([4]);
    const out = zeros([4]);
    return { x, out };
  };
  const run = (d: Partial<Parameters<Context['dispatch']>[0]>) => () => {
    const { x, out } = base();
    getContext().dispatch({ op: 'myOp', kernel: 'map', entry: 'map', bindings: { x, out }, params: { n: 4, s: 1 }, workgroups: 1, ...d });
  };

  it('a well-formed dispatch runs', async () => {
    const x = tensor([1, 2, 3, 4]);
    const out = zeros([4]);
    getContext().dispatch({
      op: 'myOp',
      kernel: 'map',
      entry: 'map',
      bindings: { x, out },
      params: { n: 4, s: 10 },
      constants: { FN: 0 },
      workgroups: 1,
    });
    expect(Array.from(await out.toArray())).toEqual([11, 12, 13, 14]);
  });

  it('a wrong, missing or extra binding name', () => {
    const { x, out } = base();
    expect(run({ bindings: { input: x, out } })).toThrow("myOp: kernel map.map needs binding 'x' (given: input, out)");
    expect(run({ bindings: { x } })).toThrow("myOp: kernel map.map needs binding 'out' (given: x)");
    expect(run({ bindings: { x, out, extra: x } })).toThrow("myOp: kernel map.map has no binding 'extra' (has: p, out, x)");
    expect(run({ entry: 'fill', bindings: { x, out } })).toThrow("myOp: kernel map.fill has no binding 'x' (has: p, out)");
  });

  it('an unknown, missing or oversized parameter', () => {
    expect(run({ params: { n: 4, s: 1, bogus: 2 } })).toThrow("myOp: kernel map.map has no parameter 'bogus' (has: n, s)");
    expect(run({ params: { n: 4 } })).toThrow("myOp: kernel map.map needs parameter 's'");
    expect(run({ params: undefined })).toThrow("myOp: kernel map.map needs params for its uniform 'p'");
    expect(run({ params: { n: [4, 5], s: 1 } })).toThrow("myOp: parameter 'n' of map.map holds 1 values, got 2");
    expect(
      run({ kernel: 'binary', entry: 'expand', params: { n: 4, rank: 1, outShape: new Array(9).fill(1), aStrides: [], bStrides: [] } }),
    ).toThrow("myOp: parameter 'outShape' of binary.expand holds 8 values, got 9");
  });

  it('an unknown override constant, kernel or entry point', () => {
    expect(run({ constants: { NOPE: 1 } })).toThrow("myOp: kernel map has no override constant 'NOPE' (has: FN, WG)");
    expect(run({ kernel: 'nope' })).toThrow("myOp: kernel 'nope' not found in kernels/ (have: ");
    expect(run({ entry: 'nope' })).toThrow("myOp: kernel map has no compute entry point 'nope' (has: map, fill, accumulate, addInPlace)");
  });

  it('workgroup counts and sizes over the limits', () => {
    expect(run({ workgroups: [70000] })).toThrow(
      'myOp: dispatch of [70000, 1, 1] workgroups exceeds maxComputeWorkgroupsPerDimension (65535)',
    );
    expect(run({ workgroups: [1.5, 1] })).toThrow(
      'myOp: dispatch of [1.5, 1, 1] workgroups exceeds maxComputeWorkgroupsPerDimension (65535)',
    );
    expect(run({ constants: { WG: 2048 } })).toThrow(
      `myOp: workgroup of 2048 invocations exceeds maxComputeInvocationsPerWorkgroup (${ctx.limits.maxComputeInvocationsPerWorkgroup})`,
    );
    expect(() => ctx.grid(65535 * 65535 * 256 + 1, 256)).toThrow(
      `grid: ${65535 * 65535 * 256 + 1} invocations exceed the adapter's dispatch limit (65535² workgroups)`,
    );
  });

  it('takes an invocation count: the grid follows from the WGSL workgroup size, or the constants', () => {
    const grids: unknown[] = [];
    const { x, out } = base();
    const d = { op: 'myOp', kernel: 'map', entry: 'map', bindings: { x, out }, params: { n: 4, s: 1 } };
    ctx.dryRun(
      () => {
        ctx.dispatch({ ...d, invocations: 1000 });
        ctx.dispatch({ ...d, invocations: 1000, constants: { WG: 64 } });
        ctx.dispatch({ ...d, invocations: 2 ** 24 + 1000 });
        // Per plane: 4 workgroups along x, 70000 planes split over y and z.
        ctx.dispatch({ ...d, invocations: 1000, planes: 70000 });
      },
      (r) => grids.push(r.workgroups),
    );
    expect(grids).toEqual([
      [4, 1, 1],
      [16, 1, 1],
      [32770, 2, 1],
      [4, 35000, 2],
    ]);
    expect(run({ workgroups: undefined })).toThrow('myOp: a dispatch of map.map needs invocations or workgroups');
  });

  it('binds a vec4 view to the buffer of its scalar array, and a placeholder for null', async () => {
    const src = tensor([1, 2, 3, 4, 5, 6, 7, 8]);
    const dst = zeros([8]);
    ctx.dispatch({
      op: 'myOp',
      kernel: 'slab',
      entry: 'insert4',
      bindings: { src, dst },
      params: { n: 1, length: 2, bigStride: 2, offset: 0 },
      invocations: 2,
      planes: 1,
    });
    expect(Array.from(await dst.toArray())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The map kernel reads x: a null one is bound to a placeholder (which WebGPU zeroes).
    const out = zeros([4]);
    ctx.dispatch({ op: 'myOp', kernel: 'map', entry: 'map', bindings: { x: null, out }, params: { n: 4, s: 3 }, invocations: 4 });
    expect(Array.from(await out.toArray())).toEqual([3, 3, 3, 3]);
  });

  it('none of the refused dispatches reached the GPU: no WebGPU error, and ops still work', async () => {
    await ctx.sync();
    expect(Array.from(await add(tensor([1, 2]), tensor([3, 4])).toArray())).toEqual([4, 6]);
  });
});

describe('errors the GPU reports later', () => {
  it('a WebGPU validation error surfaces as a JS error naming the op that was running, once', async () => {
    const t = tensor([1, 2, 3, 4]);
    // One buffer bound for reading and for writing in the same dispatch: the JS checks pass, WebGPU refuses.
    getContext().dispatch({
      op: 'aliasing',
      kernel: 'map',
      entry: 'accumulate',
      bindings: { x: t, out: t },
      params: { n: 4, s: 1 },
      workgroups: 1,
    });
    const err = await t.toArray().then(
      () => null,
      (e: Error) => e.message,
    );
    expect(err).toMatch(/^toArray: WebGPU reported an error: /);
    expect(err).toContain('(while running aliasing (map.accumulate))');
    // Reported once; the context goes on working.
    expect(Array.from(await add(t, 1).toArray())).toEqual([2, 3, 4, 5]);
  });

  it('backward through a graph whose saved tensors tidy() freed fails with a clear error, never garbage', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const loss = tidy(() => sum(exp(x))); // exp's output, which its backward needs, is freed here
    expect(() => loss.backward()).toThrow("exp: tensor [3] was disposed (bound as 'b' of binary.binary)");
  });
});
