// addPrelu = prelu(x + residual): forward and the three gradients against the float64 reference
// (planar and flat layouts, shared slope with a partial last vec4), the reference against finite
// differences, equality with the unfused prelu(add(x, residual)), and the exact errors for bad shapes.
import { beforeAll, describe, expect, it } from 'vitest';
import { add, tensor } from '../../src/index.js';
import { addPrelu } from '../../src/ops/add-prelu.js';
import { prelu } from '../../src/ops/prelu.js';
import { dot, gpu } from '../helpers.js';
import * as ref from '../reference/activations.js';
import { expectClose, expectFiniteDifference, inputs, reportErrors } from '../helpers/gradcheck.js';
import { shapeSize } from '../../src/core/shape.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('addPrelu');

const sum = (a: Float64Array, b: Float64Array) => a.map((v, i) => v + b[i]!);

const cases: { shape: number[]; alphaSize: number }[] = [
  { shape: [2, 4, 8, 8, 8], alphaSize: 4 },
  { shape: [2, 3, 7, 5, 6], alphaSize: 3 },
  { shape: [2, 3, 7, 5, 6], alphaSize: 1 },
  { shape: [1, 2, 12, 20, 20], alphaSize: 2 },
];

describe('addPrelu', () => {
  for (const { shape, alphaSize } of cases) {
    it(`x ${JSON.stringify(shape)}, alpha [${alphaSize}]: forward and gradients`, async () => {
      const n = shapeSize(shape);
      const xs = inputs(n, 11);
      const rs = inputs(n, 12);
      const alphas = inputs(alphaSize, 13, 0, 0.5);
      const gs = inputs(n, 14);
      const x = tensor(xs, shape, { requiresGrad: true });
      const r = tensor(rs, shape, { requiresGrad: true });
      const alpha = tensor(alphas, [alphaSize], { requiresGrad: true });
      const out = addPrelu(x, r, alpha);
      const s = sum(xs, rs);
      expectClose('forward', await out.toArray(), ref.prelu(s, alphas, shape));
      out.backward(tensor(gs, shape));
      const expected = ref.preluBackward(s, alphas, gs, shape);
      expectClose('grad x', await x.grad!.toArray(), expected.gx);
      expectClose('grad residual', await r.grad!.toArray(), expected.gx);
      expectClose('grad alpha', await alpha.grad!.toArray(), expected.gAlpha);
    });
  }

  it('reference gradients match finite differences', () => {
    const shape = [2, 3, 2, 3];
    // The sum away from 0, where PReLU has its kink.
    const xs = inputs(36, 15);
    const rs = inputs(36, 16).map((v, i) => (Math.abs(v + xs[i]!) < 0.05 ? v + 0.1 : v));
    const alphas = inputs(3, 17);
    const gs = inputs(36, 18);
    const { gx, gAlpha } = ref.preluBackward(sum(xs, rs), alphas, gs, shape);
    expectFiniteDifference((v) => dot(ref.prelu(sum(v, rs), alphas, shape), gs), xs, gx);
    expectFiniteDifference((v) => dot(ref.prelu(sum(xs, v), alphas, shape), gs), rs, gx);
    expectFiniteDifference((a) => dot(ref.prelu(sum(xs, rs), a, shape), gs), alphas, gAlpha);
  });

  it('equals prelu(add(x, residual)), gradients included', async () => {
    const shape = [1, 4, 6, 6, 6];
    const n = 4 * 216;
    const run = async (fused: boolean) => {
      const x = tensor(inputs(n, 19), shape, { requiresGrad: true });
      const r = tensor(inputs(n, 20), shape, { requiresGrad: true });
      const alpha = tensor([0.1, 0.2, 0.3, 0.25], [4], { requiresGrad: true });
      const out = fused ? addPrelu(x, r, alpha) : prelu(add(x, r), alpha);
      out.backward(tensor(inputs(n, 21), shape));
      return Promise.all([out, x.grad!, r.grad!, alpha.grad!].map((t) => t.toArray()));
    };
    const [fused, unfused] = [await run(true), await run(false)];
    fused.forEach((v, i) => expectClose('vs unfused', v, unfused[i]!));
  });

  it('computes only the gradients that are asked for', async () => {
    const x = tensor([-1, 2, -3, 4], [1, 2, 2], { requiresGrad: true });
    const r = tensor([0.5, 0.5, 0.5, 0.5], [1, 2, 2]);
    const alpha = tensor([0.5, 0.25], [2]);
    addPrelu(x, r, alpha).backward(tensor([1, 1, 1, 1], [1, 2, 2]));
    expect(Array.from(await x.grad!.toArray())).toEqual([0.5, 1, 0.25, 1]);
    expect(r.grad).toBeNull();
    expect(alpha.grad).toBeNull();
  });

  it('rejects a residual of another shape, and bad slopes', () => {
    const x = tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
    expect(() => addPrelu(x, tensor(new Float32Array(12), [1, 3, 4]), tensor([1], [1]))).toThrow(
      'addPrelu: residual must have the shape of x [2, 3, 4] (no broadcasting), got [1, 3, 4]',
    );
    expect(() => addPrelu(x, x, tensor([1, 2], [2]))).toThrow(
      'addPrelu: alpha has 2 values but x [2, 3, 4] has 3 channels (dimension 1); expected 3 or 1',
    );
    expect(() => addPrelu(x, x, tensor([1, 2, 3], [1, 3]))).toThrow('addPrelu: alpha must have rank 1 ([C] or [1]), got shape [1, 3]');
  });
});
