// softmax and logSoftmax along every kind of axis (NCDHW channels, first, last, negative) against
// the float64 reference, their gradients with a random upstream gradient, and stability on logits
// that would overflow exp(). Both kernel layouts: one line per invocation, and vec4s of 4 lines
// (inner a multiple of 4) with more outer rows than one grid axis holds.
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src/index.js';
import { logSoftmax, softmax } from '../../src/ops/softmax.js';
import { dot, gpu } from '../helpers.js';
import * as ref from '../reference/activations.js';
import { expectClose, expectFiniteDifference, inputs, reportErrors } from '../helpers/gradcheck.js';
import { shapeSize } from '../../src/shape.js';

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

    it('stays finite on logits of ±1e4 (max-subtracted)', async () => {
      const xs = Float64Array.from([1e4, 1e4 - 1, -1e4, 0, 3e4, 3e4]);
      const out = await op(tensor(xs, [3, 2]), 1).toArray();
      expectClose(`${name} forward`, out, forward(xs, [3, 2], 1));
    });
  });
}

it('defaults to dimension 1 and rejects a dimension out of range', async () => {
  const xs = inputs(12, 14);
  expectClose('softmax forward', await softmax(tensor(xs, [2, 3, 2])).toArray(), ref.softmax(xs, [2, 3, 2], 1));
  expect(() => softmax(tensor(xs, [2, 3, 2]), 3)).toThrow('softmax: dimension 3 out of range for a tensor of rank 3 (expected -3 to 2)');
  expect(() => logSoftmax(tensor(xs, [12]), -2)).toThrow('logSoftmax: dimension -2 out of range for a tensor of rank 1 (expected -1 to 0)');
});
