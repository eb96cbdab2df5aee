// expand, concat, narrow, reshape/view: data movement and its gradients.
import { beforeAll, describe, expect, it } from 'vitest';
import { concat, expand, mul, narrow, reshape, sum, tensor, view, type Tensor } from '../../src/index.js';
import { gpu } from '../helpers.js';
import { checkOp, reportErrors } from '../helpers/gradcheck.js';
import * as ref from './reference.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('shape ops');

describe('expand', () => {
  const cases: [number[], number[]][] = [
    [
      [3, 1],
      [2, 3, 4],
    ],
    [[4], [3, 4]],
    [[1], [2, 5]],
    [
      [1, 3, 1, 1, 1],
      [2, 3, 2, 3, 2],
    ],
    [
      [2, 1, 4],
      [2, 3, 4],
    ],
    [
      [2, 3],
      [2, 3],
    ],
  ];
  for (const [from, to] of cases) {
    it(`${JSON.stringify(from)} to ${JSON.stringify(to)}`, async () => {
      await checkOp(`expand ${from} ${to}`, {
        inputs: [{ shape: from }],
        forward: (x) => expand(x, to),
        reference: (x) => ref.expand(x, from, to),
      });
    });
  }
});

describe('concat of three inputs', () => {
  const cases: [number, number[][]][] = [
    [
      0,
      [
        [1, 3, 4],
        [2, 3, 4],
        [3, 3, 4],
      ],
    ],
    [
      1,
      [
        [2, 1, 4],
        [2, 3, 4],
        [2, 2, 4],
      ],
    ],
    [
      2,
      [
        [2, 3, 1],
        [2, 3, 4],
        [2, 3, 2],
      ],
    ],
    [
      -1,
      [
        [2, 3, 2],
        [2, 3, 1],
        [2, 3, 3],
      ],
    ],
    // V-Net's skip connection: channels of NCDHW volumes.
    [
      1,
      [
        [2, 2, 2, 3, 2],
        [2, 4, 2, 3, 2],
        [2, 1, 2, 3, 2],
      ],
    ],
    // Rows of whole vec4s, long enough for the vec4 copy (one workgroup row per sample).
    [
      1,
      [
        [2, 2, 8, 8, 4],
        [2, 1, 8, 8, 4],
        [2, 3, 8, 8, 4],
      ],
    ],
  ];
  for (const [dim, shapes] of cases) {
    it(`along ${dim}: ${shapes.map((s) => JSON.stringify(s)).join(' ')}`, async () => {
      const d = dim < 0 ? dim + shapes[0]!.length : dim;
      await checkOp(`concat ${dim} ${shapes}`, {
        inputs: shapes.map((shape) => ({ shape })),
        forward: (...xs: Tensor[]) => concat(xs, dim),
        reference: (...xs) => ref.concat(xs, shapes, d),
      });
    });
  }

  it('gives no gradient to an input that does not require it', async () => {
    const shapes = [
      [2, 3],
      [2, 1],
      [2, 2],
    ];
    await checkOp('concat mixed grad', {
      inputs: [{ shape: shapes[0]! }, { shape: shapes[1]!, grad: false }, { shape: shapes[2]! }],
      forward: (...xs: Tensor[]) => concat(xs, 1),
      reference: (...xs) => ref.concat(xs, shapes, 1),
    });
  });

  it('of a single tensor is a copy', async () => {
    await checkOp('concat single', {
      inputs: [{ shape: [3, 2] }],
      forward: (x) => concat([x], 0),
      reference: (x) => ({ data: x, shape: [3, 2] }),
    });
  });
});

describe('narrow', () => {
  const cases: [number[], number, number, number][] = [
    [[5, 3], 0, 1, 3],
    [[2, 6, 3], 1, 2, 4],
    [[2, 3, 7], -1, 0, 2],
    [[2, 3, 7], 2, 6, 1],
    [[2, 4, 2, 2, 3], 1, 1, 2],
    [[2, 4, 8, 8, 4], 1, 1, 2],
  ];
  for (const [shape, dim, start, length] of cases) {
    it(`${JSON.stringify(shape)} along ${dim} from ${start}, length ${length}`, async () => {
      const d = dim < 0 ? dim + shape.length : dim;
      await checkOp(`narrow ${shape} ${dim} ${start}`, {
        inputs: [{ shape }],
        forward: (x) => narrow(x, dim, start, length),
        reference: (x) => ref.narrow(x, shape, d, start, length),
      });
    });
  }
});

describe('reshape and view', () => {
  const cases: [number[], number[], number[]][] = [
    [
      [2, 3, 4],
      [6, -1],
      [6, 4],
    ],
    [[2, 3, 4], [-1], [24]],
    [
      [2, 3, 4],
      [4, -1, 2],
      [4, 3, 2],
    ],
    [[6], [1, 2, 1, 3], [1, 2, 1, 3]],
  ];
  for (const [from, to, resolved] of cases) {
    it(`${JSON.stringify(from)} to ${JSON.stringify(to)}`, async () => {
      // A product after the reshape makes the gradient depend on the element order.
      await checkOp(`reshape ${from} ${to}`, {
        inputs: [{ shape: from }, { shape: resolved }],
        forward: (x, w) => mul(reshape(x, to), w),
        reference: (x, w) => ({ data: x.map((v, i) => v * w[i]!), shape: resolved }),
      });
    });
  }

  it('view is reshape and shares the buffer (no copy)', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const v = view(x, [3, -1]);
    expect(v.shape).toEqual([3, 2]);
    expect(v.buffer).toBe(x.buffer);
    expect(Array.from(await v.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    // The view keeps the buffer alive after the original is disposed.
    x.dispose();
    expect(Array.from(await sum(v, 1).toArray())).toEqual([3, 7, 11]);
    v.dispose();
  });
});
