// interpolate (resample3d with PyTorch's coordinate rules): nearest and trilinear, up and down, odd
// sizes and fractional factors, against the float64 reference; gradients against finite differences;
// bad options refused with errors that name the op.
import { beforeAll, describe, expect, it } from 'vitest';
import { interpolate, tensor } from '../../src/index.js';
import { gpu } from '../helpers.js';
import { checkOp, reportErrors } from '../helpers/gradcheck.js';
import { type InterpolateCase, interpolate as interpolateRef } from '../reference/resample.js';

beforeAll(gpu);
reportErrors('resample');

type Triple = [number, number, number];

describe('interpolate', () => {
  const cases: InterpolateCase[] = [
    { shape: [2, 3, 3, 4, 5], outSize: [7, 2, 5], mode: 'nearest' },
    { shape: [1, 2, 4, 4, 6], outSize: [6, 8, 3], scaleFactor: [1.5, 2, 0.5], mode: 'nearest' },
    { shape: [2, 2, 3, 4, 5], outSize: [7, 3, 10], mode: 'trilinear' },
    { shape: [1, 3, 4, 5, 6], outSize: [6, 7, 3], scaleFactor: [1.5, 1.5, 0.5], mode: 'trilinear' },
    { shape: [1, 2, 3, 5, 4], outSize: [5, 2, 1], mode: 'trilinear', alignCorners: true },
    { shape: [1, 1, 2, 3, 4], outSize: [6, 9, 12], scaleFactor: [3, 3, 3], mode: 'trilinear' },
  ];
  for (const c of cases) {
    const what = c.scaleFactor ? `scaleFactor ${c.scaleFactor}` : `size ${c.outSize}`;
    it(`${c.mode}${c.alignCorners ? ' alignCorners' : ''} ${c.shape} → ${what}`, async () => {
      await checkOp(`interpolate ${c.mode} ${c.shape} ${what}`, {
        inputs: [{ shape: c.shape }],
        forward: (x) =>
          interpolate(x!, {
            ...(c.scaleFactor ? { scaleFactor: c.scaleFactor as Triple } : { size: c.outSize as Triple }),
            mode: c.mode,
            alignCorners: c.alignCorners,
          }),
        reference: (x) => interpolateRef(x!, c),
        fdSamples: 48,
      });
    });
  }

  it('refuses bad options, naming the op', () => {
    const x = tensor(new Float32Array(8), [1, 1, 2, 2, 2]);
    expect(() => interpolate(x, {})).toThrow('interpolate: give exactly one of size and scaleFactor');
    expect(() => interpolate(x, { size: 4, scaleFactor: 2 })).toThrow('interpolate: give exactly one of size and scaleFactor');
    expect(() => interpolate(x, { size: 4, alignCorners: true })).toThrow("interpolate: alignCorners applies to mode 'trilinear' only");
    expect(() => interpolate(x, { size: [4, 0, 4] })).toThrow(
      'interpolate: size must be positive integers (a number or [d, h, w]), got [4,0,4]',
    );
    expect(() => interpolate(x, { scaleFactor: -1 })).toThrow('interpolate: scaleFactor must be positive (a number or [d, h, w]), got -1');
    expect(() => interpolate(x, { scaleFactor: 0.25 })).toThrow('interpolate: scaleFactor 0.25 leaves no voxels of x [1, 1, 2, 2, 2]');
    expect(() => interpolate(tensor(new Float32Array(4), [1, 1, 4]), { size: 2 })).toThrow(
      'interpolate: x must have rank 5 (N, C, D, H, W), got shape [1, 1, 4]',
    );
  });
});
