// softmax and logSoftmax along every kind of axis (NCDHW channels, first, last, negative) against
// the float64 reference, their gradients with a random upstream gradient, and stability on logits
// that would overflow exp(). Both kernel layouts: one line per invocation, and vec4s of 4 lines
// (inner a multiple of 4) with more outer rows than one grid axis holds.
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src/index.js';
import { logSoftmax, softmax } from '../../src/ops/softmax.js';
import { dot, gpu, maxElementRelError } from '../helpers.js';
import * as ref from '../reference/activations.js';
import { expectClose, expectFiniteDifference, inputs, recordError, reportErrors } from '../helpers/gradcheck.js';
import { shapeSize } from '../../src/core/shape.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('softmax');

const cases: { shape: number[]; dim: number }[] = [
  { shape: [2, 3, 7, 5, 6], dim: 1 },
  { shape: [2, 3, 7, 5, 6], dim: -1 },
  { shape: [5, 4, 3], dim: 0 },
  { shape: [5, 4, 3], dim: 2 },
  { shape: [3, 7, 2, 5], dim: 1 },
  { shape: [3, 7, 2, 5], dim: -2 },
  { shape: [9], dim: 0 },
  { shape: [4, 1, 3], dim: 1 },
  // inner a multiple of 4: 4 lines per invocation in vec4s (V-Net's channel softmax).
  { shape: [2, 3, 8, 6, 4], dim: 1 },
  { shape: [3, 5, 8], dim: 1 },
  // 70000 outer rows: more workgroup rows than one grid axis holds.
  { shape: [70000, 2, 4], dim: 1 },
];

const ops = [
  { name: 'softmax', op: softmax, forward: ref.softmax, backward: ref.softmaxBackward },
  { name: 'logSoftmax', op: logSoftmax, forward: ref.logSoftmax, backward: ref.logSoftmaxBackward },
] as const;

for (const { name, op, forward, backward } of ops) {
  describe(name, () => {
    for (const { shape, dim } of cases) {
      it(`${JSON.stringify(shape)} along ${dim}: forward and gradient`, async () => {
        const d = dim < 0 ? dim + shape.length : dim;
        const n = shapeSize(shape);
        const xs = inputs(n, 10, -4, 4);
        const gs = inputs(n, 11);
        const x = tensor(xs, shape, { requiresGrad: true });
        const out = op(x, dim);
        const y = forward(xs, shape, d);
        expectClose(`${name} forward`, await out.toArray(), y);
        out.backward(tensor(gs, shape));
        expectClose(`${name} grad`, await x.grad!.toArray(), backward(y, gs, shape, d));
      });
    }

    it('reference gradient matches finite differences', () => {
      const shape = [2, 3, 4];
      const xs = inputs(24, 12, -2, 2);
      const gs = inputs(24, 13);
      expectFiniteDifference((v) => dot(forward(v, shape, 1), gs), xs, backward(forward(xs, shape, 1), gs, shape, 1));
    });

    // Pairs of logits, one line each: as rows of [4, 2] (a line per invocation), and as the 4 lines of
    // [1, 2, 4] (vec4s).
    const pairs = [
      [1e4, 1e4 - 1],
      [-1e4, 0],
      [3e4, 3e4],
      [0, -1e4 + 1],
    ];
    const layouts = [
      { shape: [4, 2], xs: Float64Array.from(pairs.flat()) },
      { shape: [1, 2, 4], xs: Float64Array.from([0, 1].flatMap((c) => pairs.map((pair) => pair[c]!))) },
    ];
    for (const { shape, xs } of layouts) {
      it(`stays finite and accurate on logits of ±1e4 (max-subtracted), ${JSON.stringify(shape)}`, async () => {
        const out = await op(tensor(xs, shape), 1).toArray();
        const want = forward(xs, shape, 1);
        expectClose(`${name} forward`, out, want);
        // Each output to its own size: logSoftmax's −0.31 beside its −1e4 must be as exact as softmax's
        // 0.73 (rounding 1e4 + 0.31 to float32 alone errs by 7e-4 of it). WGSL's log may err by 2⁻²¹
        // near 1, 1.5e-6 of 0.31; measured 2.9e-7 on llvmpipe.
        const error = maxElementRelError(out, want);
        recordError(`${name} forward, large logits, per element`, error);
        expect(error, `${Array.from(out)} vs ${Array.from(want)}`).toBeLessThan(1e-5);
      });
    }
  });
}

it('defaults to dimension 1 and rejects a dimension out of range', async () => {
  const xs = inputs(12, 14);
  expectClose('softmax forward', await softmax(tensor(xs, [2, 3, 2])).toArray(), ref.softmax(xs, [2, 3, 2], 1));
  expect(() => softmax(tensor(xs, [2, 3, 2]), 3)).toThrow('softmax: dimension 3 out of range for a tensor of rank 3 (expected -3 to 2)');
  expect(() => logSoftmax(tensor(xs, [12]), -2)).toThrow('logSoftmax: dimension -2 out of range for a tensor of rank 1 (expected -1 to 0)');
});
