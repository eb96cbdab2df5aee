// add/sub/mul/div with broadcasting, their scalar forms, and the unary maps: forward against float64,
// backward against finite differences.
import { beforeAll, describe, it } from 'vitest';
import { abs, add, addScalar, div, exp, log, mul, mulScalar, neg, relu, sqrt, sub, type Tensor } from '../../src/index.js';
import { gpu } from '../helpers.js';
import { checkOp, reportErrors } from '../helpers/gradcheck.js';
import * as ref from './reference.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('elementwise');

type BinaryFn = (a: Tensor, b: Tensor) => Tensor;
const binaryOps: [string, BinaryFn, (x: number, y: number) => number][] = [
  ['add', add, (x, y) => x + y],
  ['sub', sub, (x, y) => x - y],
  ['mul', mul, (x, y) => x * y],
  ['div', div, (x, y) => x / y],
];

// Shapes of a and b: trailing, middle, both-sided, scalar-like and per-channel (NCDHW) broadcasting.
const patterns: [number[], number[]][] = [
  [
    [2, 3, 4],
    [2, 3, 4],
  ],
  [[2, 3, 4], [4]],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [
    [3, 1],
    [2, 1, 4],
  ],
  [[5], [1]],
  [[1], [2, 3]],
  [
    [2, 3, 4],
    [3, 1],
  ],
  [
    [2, 3, 2, 3, 4],
    [1, 3, 1, 1, 1],
  ],
  [
    [1, 3, 1, 1, 1],
    [2, 3, 2, 3, 4],
  ],
  // Rank 8, the most the kernels pack, broadcasting in alternate dimensions.
  [
    [2, 1, 2, 1, 2, 1, 2, 1],
    [1, 2, 1, 2, 1, 2, 1, 3],
  ],
];

describe('binary ops with broadcasting', () => {
  for (const [name, fn, f] of binaryOps) {
    for (const [as, bs] of patterns) {
      it(`${name} ${JSON.stringify(as)} with ${JSON.stringify(bs)}`, async () => {
        await checkOp(`${name} ${as} ${bs}`, {
          // Denominators stay away from zero so finite differences stay accurate.
          inputs: [{ shape: as }, { shape: bs, range: name === 'div' ? [0.5, 1.5] : [-1, 1] }],
          forward: fn,
          reference: (a, b) => ref.binary(a, as, b, bs, f),
        });
      });
    }
  }

  for (const [name, fn, f] of binaryOps) {
    it(`${name} with only the first / only the second operand requiring grad`, async () => {
      const [as, bs] = [
        [2, 3, 4],
        [3, 1],
      ];
      const range: [number, number] = name === 'div' ? [0.5, 1.5] : [-1, 1];
      await checkOp(`${name} first only`, {
        inputs: [{ shape: as }, { shape: bs, range, grad: false }],
        forward: fn,
        reference: (a, b) => ref.binary(a, as, b, bs, f),
      });
      await checkOp(`${name} second only`, {
        inputs: [
          { shape: as, grad: false },
          { shape: bs, range },
        ],
        forward: fn,
        reference: (a, b) => ref.binary(a, as, b, bs, f),
      });
    });
  }
});

describe('scalar operands', () => {
  const shape = [3, 5];
  const cases: [string, (x: Tensor) => Tensor, (v: number) => number][] = [
    ['add(x, 2.5)', (x) => add(x, 2.5), (v) => v + 2.5],
    ['sub(x, 0.75)', (x) => sub(x, 0.75), (v) => v - 0.75],
    ['mul(x, -3)', (x) => mul(x, -3), (v) => v * -3],
    ['div(x, 4)', (x) => div(x, 4), (v) => v / 4],
    ['addScalar(x, -1.5)', (x) => addScalar(x, -1.5), (v) => v - 1.5],
    ['mulScalar(x, 0.5)', (x) => mulScalar(x, 0.5), (v) => v * 0.5],
  ];
  for (const [name, fn, f] of cases) {
    it(name, async () => {
      await checkOp(name, { inputs: [{ shape }], forward: fn, reference: (x) => ref.map(x, shape, f) });
    });
  }
});

describe('unary maps', () => {
  const shape = [4, 7];
  const cases: [string, (x: Tensor) => Tensor, (v: number) => number, [number, number]][] = [
    ['neg', neg, (v) => -v, [-1, 1]],
    ['exp', exp, Math.exp, [-2, 2]],
    ['log', log, Math.log, [0.5, 2]],
    ['sqrt', sqrt, Math.sqrt, [0.5, 2]],
    ['abs', abs, Math.abs, [-1, 1]],
    ['relu', relu, (v) => Math.max(v, 0), [-1, 1]],
  ];
  for (const [name, fn, f, range] of cases) {
    it(name, async () => {
      await checkOp(name, { inputs: [{ shape, range }], forward: fn, reference: (x) => ref.map(x, shape, f) });
    });
  }

  it('a chain of maps and broadcasts: sqrt(exp(x) * y) + relu(x - y)', async () => {
    const [xs, ys] = [
      [2, 3, 4],
      [3, 4],
    ];
    await checkOp('chain', {
      inputs: [{ shape: xs }, { shape: ys, range: [0.5, 1.5] }],
      forward: (x, y) => add(sqrt(mul(exp(x), y)), relu(sub(x, y))),
      reference: (x, y) => {
        const a = ref.binary(x, xs, y, ys, (u, v) => Math.sqrt(Math.exp(u) * v));
        const b = ref.binary(x, xs, y, ys, (u, v) => Math.max(u - v, 0));
        return { data: a.data.map((v, i) => v + b.data[i]!), shape: a.shape };
      },
    });
  });
});
