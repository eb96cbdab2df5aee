import { beforeAll, describe, expect, it } from 'vitest';
import { tensor, zeros } from '../../src/index.js';
import { conv3d } from '../../src/ops/conv/conv3d.js';
import { convolve, weightGrad } from '../../src/ops/conv/path.js';
import { conv3dShape } from '../../src/ops/conv/shape.js';
import { gemmTiles } from '../../src/ops/conv/gemm.js';
import { convolveTiles } from '../../src/ops/conv/register-tiles.js';
import { current, gpu, maxRelError, randomArray } from '../helpers.js';
import { conv3dGradRef, conv3dRef, type ConvCase, type Shape5, type Triple } from '../reference/conv.js';
import { conv3dUnderTest as op, describeFamilies, forwardError, gradErrors, referenceGradErrors } from './conv-harness.js';

const one: Triple = [1, 1, 1];
const zero: Triple = [0, 0, 0];

// W divisible by 4 takes the aligned fast path, other widths the generic one; Cout > 16 and not a
// multiple of the channel tile checks the remainder; widths 12 and 16 take 12- and 16-wide
// position tiles, width 4 tiles of 4 rows; a 7-tall kernel spans two weight-gradient tap tiles.
const cases: Record<string, ConvCase> = {
  'odd sizes, non-cubic kernel, mixed stride and padding': {
    xShape: [2, 3, 7, 5, 6],
    wShape: [5, 3, 3, 2, 4],
    stride: [2, 1, 2],
    padding: [1, 0, 2],
    dilation: one,
  },
  'dilation 2': { xShape: [2, 3, 7, 5, 6], wShape: [5, 3, 3, 3, 2], stride: one, padding: [2, 1, 1], dilation: [2, 2, 2] },
  'stride 2 with dilation 2, aligned rows': {
    xShape: [1, 2, 9, 6, 8],
    wShape: [3, 2, 3, 3, 3],
    stride: [2, 2, 2],
    padding: one,
    dilation: [2, 2, 2],
  },
  '1×1×1, 19 output channels': { xShape: [2, 5, 3, 4, 8], wShape: [19, 5, 1, 1, 1], stride: one, padding: zero, dilation: one },
  '2×2×2 stride 2 (V-Net down)': { xShape: [2, 4, 6, 4, 8], wShape: [9, 4, 2, 2, 2], stride: [2, 2, 2], padding: zero, dilation: one },
  '5×5×5 padding 2, aligned rows': { xShape: [1, 3, 6, 5, 8], wShape: [6, 3, 5, 5, 5], stride: one, padding: [2, 2, 2], dilation: one },
  '5×5×5 padding 2, odd width': { xShape: [2, 2, 5, 6, 7], wShape: [3, 2, 5, 5, 5], stride: one, padding: [2, 2, 2], dilation: one },
  '3×3×3, width 16, 10 output channels': { xShape: [1, 3, 4, 3, 16], wShape: [10, 3, 3, 3, 3], stride: one, padding: one, dilation: one },
  'width 12, 3×1×5 kernel': { xShape: [1, 2, 3, 4, 12], wShape: [5, 2, 3, 1, 5], stride: one, padding: [1, 0, 2], dilation: one },
  '5×5×5 on width 4: tiles of 4 rows, 12 output channels': {
    xShape: [1, 4, 4, 6, 4],
    wShape: [12, 4, 5, 5, 5],
    stride: one,
    padding: [2, 2, 2],
    dilation: one,
  },
  '1×7×3 kernel': { xShape: [1, 2, 3, 9, 8], wShape: [3, 2, 1, 7, 3], stride: one, padding: [0, 3, 1], dilation: one },
};

const tolerance = 1e-5;

beforeAll(async () => {
  await gpu();
});

describeFamilies('conv3d forward', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      expect(await forwardError(op, c, 11)).toBeLessThan(tolerance);
    });
  }

  it('without bias', async () => {
    expect(await forwardError(op, cases['odd sizes, non-cubic kernel, mixed stride and padding']!, 12, false)).toBeLessThan(tolerance);
  });

  it('takes numbers for stride, padding and dilation', async () => {
    const c: ConvCase = { xShape: [1, 2, 6, 6, 6], wShape: [3, 2, 3, 3, 3], stride: [2, 2, 2], padding: one, dilation: one };
    const x = randomArray(2 * 216, 1);
    const w = randomArray(3 * 2 * 27, 2);
    const out = conv3d(tensor(x, c.xShape), tensor(w, c.wShape), null, { stride: 2, padding: 1 });
    expect(maxRelError(await out.toArray(), conv3dRef(c, x, w))).toBeLessThan(tolerance);
  });
});

describeFamilies('conv3d backward', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const e = await gradErrors(op, c, 21);
      expect(e.x).toBeLessThan(tolerance);
      expect(e.weight).toBeLessThan(tolerance);
      expect(e.bias).toBeLessThan(tolerance);
    });
  }

  it('the reference gradients match finite differences', () => {
    const c: ConvCase = { xShape: [2, 2, 4, 3, 5], wShape: [3, 2, 2, 3, 2], stride: [2, 1, 2], padding: [1, 1, 0], dilation: [1, 2, 1] };
    const e = referenceGradErrors(op, c, 31);
    expect(e.x).toBeLessThan(1e-8);
    expect(e.weight).toBeLessThan(1e-8);
    expect(e.bias).toBeLessThan(1e-8);
  });

  it('computes only the gradients asked for', () => {
    const x = zeros([1, 2, 4, 4, 4]);
    const w = tensor(randomArray(3 * 2 * 8, 3), [3, 2, 2, 2, 2], { requiresGrad: true });
    conv3d(x, w).backward(zeros([1, 3, 3, 3, 3]));
    expect(x.grad).toBeNull();
    expect(w.grad?.shape).toEqual([3, 2, 2, 2, 2]);
  });
});

describe('conv3d sizes beyond one dispatch dimension', () => {
  // One row of 4 positions per invocation (register tiles), or 32 voxels per workgroup (GEMM
  // tiles): both grids need their second dimension.
  const oneRow = { ...convolveTiles[0]!, name: 'one row', maxVec4s: 1 };
  const small = gemmTiles.find((t) => t.WM * t.TM === 32 && t.WN * t.TN === 32)!;
  const planes = [
    { name: 'a 2050×2050 plane in one-row register tiles', path: oneRow, xShape: [1, 1, 2050, 2050, 1] as Shape5 },
    { name: 'a 1026×2050 plane in 32-voxel GEMM tiles', path: small, xShape: [1, 1, 1026, 2050, 1] as Shape5 },
  ];
  for (const { name, path, xShape } of planes) {
    it(`${name}: more than 65535 workgroups`, async () => {
      const c: ConvCase = { xShape, wShape: [1, 1, 3, 3, 1], stride: one, padding: [1, 1, 0], dilation: one };
      const n = xShape[2] * xShape[3];
      const x = randomArray(n, 41);
      const w = randomArray(9, 42);
      const gOut = randomArray(n, 43);
      const xt = tensor(x, c.xShape);
      const wt = tensor(w, c.wShape);
      const gt = tensor(gOut, c.xShape);
      const { geometry } = conv3dShape(xt, wt, null, c);
      const want = conv3dGradRef(c, x, w, gOut);
      const pass = { op: 'conv3d', weight: wt, bias: null, outSpatial: c.xShape.slice(2), geometry };
      const out = convolve({ ...pass, src: xt, transposed: false }, path);
      const dx = convolve({ ...pass, src: gt, transposed: true }, path);
      const dw = weightGrad({ op: 'conv3d', lhs: gt, src: xt, geometry });
      expect(maxRelError(await out.toArray(), conv3dRef(c, x, w))).toBeLessThan(tolerance);
      expect(maxRelError(await dx.toArray(), want.x)).toBeLessThan(tolerance);
      expect(maxRelError(await dw.toArray(), want.weight)).toBeLessThan(tolerance);
    });
  }
});

describe('conv3d rejects bad input before any GPU work', () => {
  const x = () => zeros([1, 2, 4, 4, 4]);
  const w = () => zeros([3, 2, 3, 3, 3]);

  it('wrong ranks', () => {
    expect(() => conv3d(zeros([2, 4, 4, 4]), w())).toThrow('conv3d: x must have rank 5 (N, C, D, H, W), got shape [2, 4, 4, 4]');
    expect(() => conv3d(x(), zeros([3, 2, 3, 3]))).toThrow(
      'conv3d: weight must have rank 5 (Cout, Cin, kD, kH, kW), got shape [3, 2, 3, 3]',
    );
  });

  it('an empty kernel', () => {
    expect(() => conv3d(x(), zeros([3, 2, 3, 0, 3]))).toThrow('conv3d: weight [3, 2, 3, 0, 3] has an empty kernel');
  });

  it('channel mismatch', () => {
    expect(() => conv3d(x(), zeros([3, 5, 3, 3, 3]))).toThrow(
      'conv3d: x has 2 channels (shape [1, 2, 4, 4, 4]) but weight [3, 5, 3, 3, 3] expects 5 input channels',
    );
  });

  it('bias size', () => {
    expect(() => conv3d(x(), w(), zeros([4]))).toThrow('conv3d: bias must have shape [3] (one value per output channel), got [4]');
  });

  it('kernel larger than the padded input', () => {
    expect(() => conv3d(x(), zeros([3, 2, 5, 3, 3]), null, { dilation: [2, 1, 1], padding: 1 })).toThrow(
      'conv3d: kernel [5, 3, 3] with dilation [2, 1, 1] spans [9, 3, 3], larger than the padded input [6, 6, 6] (x [1, 2, 4, 4, ' +
        '4], padding [1, 1, 1])',
    );
  });

  it('non-positive stride, negative padding, malformed triples', () => {
    expect(() => conv3d(x(), w(), null, { stride: [1, 0, 1] })).toThrow(
      'conv3d: stride must be positive integers (a number or [d, h, w]), got [1,0,1]',
    );
    expect(() => conv3d(x(), w(), null, { padding: -1 })).toThrow(
      'conv3d: padding must be non-negative integers (a number or [d, h, w]), got -1',
    );
    expect(() => conv3d(x(), w(), null, { dilation: [1, 1] as unknown as Triple })).toThrow(
      'conv3d: dilation must be positive integers (a number or [d, h, w]), got [1,1]',
    );
  });

  it('a register tile beyond the kernel arrays', () => {
    const { geometry, outShape } = conv3dShape(x(), w(), null, {});
    const tile = { ...convolveTiles[0]!, COT: 20 };
    expect(() =>
      convolve({ op: 'conv3d', src: x(), weight: w(), bias: null, outSpatial: outShape.slice(2), geometry, transposed: false }, tile),
    ).toThrow('conv3d: tile COT must be a multiple of 4 from 4 to 16, got 20');
  });

  it('an output too large for one storage binding', () => {
    const limit = current().limits.maxStorageBufferBindingSize;
    const channels = Math.ceil(limit / 4 / 512) + 1;
    const bytes = channels * 512 * 4;
    expect(() => conv3d(zeros([1, 1, 8, 8, 8]), zeros([channels, 1, 1, 1, 1]))).toThrow(
      `conv3d: output [1, ${channels}, 8, 8, 8] needs ${bytes} bytes, over the adapter's maxStorageBufferBindingSize (${limit} ` +
        `bytes); use a smaller batch or volume`,
    );
  });
});
