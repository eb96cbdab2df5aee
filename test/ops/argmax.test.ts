// argmax along channels and other axes (with keepDim), first index on ties, against the reference.
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src/index.js';
import { argmax } from '../../src/ops/argmax.js';
import { gpu } from '../helpers.js';
import * as ref from '../reference/activations.js';
import { inputs } from '../helpers/gradcheck.js';
import { shapeSize } from '../../src/core/shape.js';

beforeAll(async () => {
  await gpu();
});

describe('argmax', () => {
  const cases: { shape: number[]; dim: number }[] = [
    { shape: [2, 3, 7, 5, 6], dim: 1 },
    { shape: [2, 3, 7, 5, 6], dim: 4 },
    { shape: [5, 4, 3], dim: 0 },
    { shape: [5, 4, 3], dim: -1 },
    { shape: [13], dim: 0 },
  ];
  for (const { shape, dim } of cases) {
    it(`${JSON.stringify(shape)} along ${dim}`, async () => {
      const d = dim < 0 ? dim + shape.length : dim;
      const xs = inputs(shapeSize(shape), 20);
      const out = argmax(tensor(xs, shape), dim);
      expect(out.shape).toEqual(shape.filter((_, i) => i !== d));
      expect(Array.from(await out.toArray())).toEqual(Array.from(ref.argmax(xs, shape, d)));
    });
  }

  it('keeps the dimension on request, picks the first maximum on ties, and needs no gradient', async () => {
    const x = tensor([1, 5, 5, 2, 0, 0, 7, 7], [2, 4], { requiresGrad: true });
    const out = argmax(x, 1, true);
    expect(out.shape).toEqual([2, 1]);
    expect(Array.from(await out.toArray())).toEqual([1, 2]);
    expect(out.requiresGrad).toBe(false);
  });

  it('rejects a dimension out of range', () => {
    expect(() => argmax(tensor([1, 2], [1, 2]), 2)).toThrow('argmax: dimension 2 out of range for a tensor of rank 2 (expected -2 to 1)');
  });
});
