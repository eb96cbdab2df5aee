// permute (ONNX Transpose): forward against the float64 reference, gradient against finite
// differences, and the error for dims that are not a permutation.
import { beforeAll, describe, expect, it } from 'vitest';
import { permute, tensor } from '../../src/index.js';
import { gpu } from '../helpers.js';
import { checkOp } from '../helpers/gradcheck.js';
import * as ref from '../reference/permute.js';

beforeAll(gpu);

describe('permute', () => {
  const cases: { shape: number[]; dims: number[] }[] = [
    { shape: [2, 3, 4, 5, 6], dims: [0, 2, 3, 4, 1] }, // NCDHW → NDHWC, as opset-11 softmax exports
    { shape: [2, 3, 4, 5, 6], dims: [0, 4, 1, 2, 3] }, // and back
    { shape: [3, 5, 7], dims: [2, 1, 0] },
    { shape: [5, 7], dims: [-1, 0] },
    { shape: [1, 2, 1, 3, 1, 2, 1, 2], dims: [7, 6, 5, 4, 3, 2, 1, 0] },
  ];
  for (const { shape, dims } of cases) {
    it(`${JSON.stringify(shape)} by ${JSON.stringify(dims)}`, async () => {
      const order = dims.map((d) => (d < 0 ? d + shape.length : d));
      await checkOp(`permute ${shape} ${dims}`, {
        inputs: [{ shape }],
        forward: (x) => permute(x!, dims),
        reference: (x) => ref.permute(x!, shape, order),
        fdSamples: 24,
      });
    });
  }

  it('refuses dims that do not order every dimension once', () => {
    const x = tensor(new Float32Array(6), [2, 3]);
    expect(() => permute(x, [0, 0])).toThrow('permute: dims must order every dimension of x [2, 3] once, got [0, 0]');
    expect(() => permute(x, [1])).toThrow('permute: dims must order every dimension of x [2, 3] once, got [1]');
  });
});
