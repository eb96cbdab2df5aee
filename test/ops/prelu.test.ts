// PReLU: per-channel and shared slopes, ranks 1 to 5, against the float64 reference; both
// gradients with a random upstream gradient. Both kernel layouts: planar (planes a multiple of 4,
// or a shared slope; several workgroups per plane, more planes than one grid axis holds, a partial
// last vec4) and flat (planes that straddle vec4s, whose slope gradient is a split reduction).
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src/index.js';
import { prelu } from '../../src/ops/prelu.js';
import { dot, gpu } from '../helpers.js';
import * as ref from '../reference/activations.js';
import { expectClose, expectFiniteDifference, inputs, reportErrors } from '../helpers/gradcheck.js';
import { shapeSize } from '../../src/core/shape.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('prelu');

const cases: { shape: number[]; alphaSize: number }[] = [
  { shape: [2, 3, 7, 5, 6], alphaSize: 3 },
  { shape: [2, 3, 7, 5, 6], alphaSize: 1 },
  { shape: [4, 5], alphaSize: 5 },
  { shape: [3, 2, 9], alphaSize: 2 },
  { shape: [11], alphaSize: 1 },
  // 2 × 16 × 4096 elements: several chunks per channel in the slope gradient.
  { shape: [2, 16, 16, 16, 16], alphaSize: 16 },
  // Planar layout: planes of 4800 elements, several workgroups per plane, the last one partial.
  { shape: [2, 3, 12, 20, 20], alphaSize: 3 },
  // Shared slope over several 65536-element planes, the last one ending in a partial vec4.
  { shape: [3, 70001], alphaSize: 1 },
  // 70000 planes: more than 65535 workgroups along y, folded onto z.
  { shape: [1, 70000, 4], alphaSize: 70000 },
];

describe('prelu', () => {
  for (const { shape, alphaSize } of cases) {
    it(`x ${JSON.stringify(shape)}, alpha [${alphaSize}]: forward and gradients`, async () => {
      const n = shapeSize(shape);
      const xs = inputs(n, 1);
      const alphas = inputs(alphaSize, 2, 0, 0.5);
      const gs = inputs(n, 3);
      const x = tensor(xs, shape, { requiresGrad: true });
      const alpha = tensor(alphas, [alphaSize], { requiresGrad: true });
      const out = prelu(x, alpha);
      expectClose('forward', await out.toArray(), ref.prelu(xs, alphas, shape));
      out.backward(tensor(gs, shape));
      const expected = ref.preluBackward(xs, alphas, gs, shape);
      expectClose('grad x', await x.grad!.toArray(), expected.gx);
      expectClose('grad alpha', await alpha.grad!.toArray(), expected.gAlpha);
    });
  }

  it('reference gradients match finite differences', () => {
    const shape = [2, 3, 2, 3];
    // Away from 0, where PReLU has its kink.
    const xs = inputs(36, 4).map((v) => (Math.abs(v) < 0.05 ? v + 0.1 : v));
    const alphas = inputs(3, 5);
    const gs = inputs(36, 6);
    const { gx, gAlpha } = ref.preluBackward(xs, alphas, gs, shape);
    expectFiniteDifference((v) => dot(ref.prelu(v, alphas, shape), gs), xs, gx);
    expectFiniteDifference((a) => dot(ref.prelu(xs, a, shape), gs), alphas, gAlpha);
  });

  it('computes only the gradient that is asked for', async () => {
    const x = tensor([-1, 2, -3, 4], [1, 2, 2]);
    const alpha = tensor([0.5, 0.25], [2], { requiresGrad: true });
    prelu(x, alpha).backward(tensor([1, 1, 1, 1], [1, 2, 2]));
    expect(Array.from(await alpha.grad!.toArray())).toEqual([-1, -3]);
    expect(x.grad).toBeNull();
  });

  it('rejects a slope count that is neither C nor 1, and bad ranks', () => {
    const x = tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
    expect(() => prelu(x, tensor([1, 2], [2]))).toThrow(
      'prelu: alpha has 2 values but x [2, 3, 4] has 3 channels (dimension 1); expected 3 or 1',
    );
    expect(() => prelu(tensor([1, 2, 3], [3]), tensor([1, 2, 3], [3]))).toThrow(
      'prelu: alpha has 3 values but x [3] has 1 channel (dimension 1); expected 1',
    );
    expect(() => prelu(x, tensor([1, 2, 3], [1, 3]))).toThrow('prelu: alpha must have rank 1 ([C] or [1]), got shape [1, 3]');
  });
});
