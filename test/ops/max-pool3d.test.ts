// maxPool3d: forward against the float64 reference, the gradient (to each window's maximum) against
// finite differences, overlapping windows and padding included; errors name the op and the sizes.
import { beforeAll, describe, expect, it } from 'vitest';
import { maxPool3d, tensor } from '../../src/index.js';
import { gpu } from '../helpers.js';
import { checkOp } from '../helpers/gradcheck.js';
import * as ref from '../reference/pool.js';

beforeAll(gpu);

describe('maxPool3d', () => {
  const cases: { shape: number[]; kernel: number[]; stride?: number[]; padding?: number[] }[] = [
    { shape: [2, 3, 4, 6, 8], kernel: [2, 2, 2] }, // non-overlapping (UNet's down-sampling)
    { shape: [1, 2, 7, 6, 5], kernel: [3, 3, 3], stride: [2, 2, 2], padding: [1, 1, 1] }, // overlapping, padded
    { shape: [2, 1, 5, 9, 4], kernel: [1, 3, 2], stride: [1, 2, 1] },
  ];
  for (const { shape, kernel, stride, padding } of cases) {
    it(`${JSON.stringify(shape)} kernel ${kernel} stride ${stride ?? kernel} padding ${padding ?? 0}`, async () => {
      await checkOp(`maxPool3d ${shape} ${kernel}`, {
        inputs: [{ shape }],
        forward: (x) =>
          maxPool3d(x!, kernel as [number, number, number], {
            stride: stride as [number, number, number] | undefined,
            padding: padding as [number, number, number] | undefined,
          }),
        reference: (x) => ref.maxPool3d(x!, shape, kernel, stride ?? kernel, padding ?? [0, 0, 0]),
        fdSamples: 32,
      });
    });
  }

  it('refuses padding over half the kernel and windows larger than x', () => {
    const x = tensor(new Float32Array(8), [1, 1, 2, 2, 2]);
    expect(() => maxPool3d(x, 2, { padding: 2 })).toThrow('maxPool3d: padding [2, 2, 2] must be at most half the kernel [2, 2, 2]');
    expect(() => maxPool3d(x, 3)).toThrow('maxPool3d: kernel [3, 3, 3] with padding [0, 0, 0] is larger than x [1, 1, 2, 2, 2]');
    expect(() => maxPool3d(tensor(new Float32Array(4), [1, 1, 4]), 2)).toThrow(
      'maxPool3d: x must have rank 5 (N, C, D, H, W), got shape [1, 1, 4]',
    );
  });
});
