import { beforeAll, describe, expect, it } from 'vitest';
import { zeros } from '../../src/index.js';
import { convTranspose3d } from '../../src/ops/conv/conv-transpose3d.js';
import { gpu } from '../helpers.js';
import type { ConvCase, Triple } from '../reference/conv.js';
import { convTranspose3dUnderTest as op, describeFamilies, forwardError, gradErrors, referenceGradErrors } from './conv-harness.js';

const one: Triple = [1, 1, 1];
const zero: Triple = [0, 0, 0];

// Strides above 1 run one dispatch per stride phase; a kernel smaller than the stride leaves
// phases no tap reaches (bias only).
const cases: Record<string, ConvCase> = {
  'odd sizes, non-cubic kernel, mixed stride, padding and outputPadding': {
    xShape: [2, 3, 4, 3, 5],
    wShape: [3, 5, 3, 2, 4],
    stride: [2, 1, 2],
    padding: [1, 0, 2],
    outputPadding: [1, 0, 1],
    dilation: one,
  },
  'stride 2, dilation 2, outputPadding 1': {
    xShape: [1, 2, 3, 4, 4],
    wShape: [2, 3, 3, 3, 3],
    stride: [2, 2, 2],
    padding: one,
    outputPadding: one,
    dilation: [2, 2, 2],
  },
  'stride 3 with a 2-wide kernel': {
    xShape: [1, 2, 3, 3, 4],
    wShape: [2, 3, 2, 2, 2],
    stride: [3, 3, 3],
    padding: zero,
    outputPadding: [2, 1, 0],
    dilation: one,
  },
  '2×2×2 stride 2 (V-Net up)': { xShape: [2, 8, 3, 2, 4], wShape: [8, 5, 2, 2, 2], stride: [2, 2, 2], padding: zero, dilation: one },
  '5×5×5 padding 2': { xShape: [1, 3, 5, 4, 8], wShape: [3, 6, 5, 5, 5], stride: one, padding: [2, 2, 2], dilation: one },
  '1×1×1, 10 output channels': { xShape: [2, 6, 3, 3, 4], wShape: [6, 10, 1, 1, 1], stride: one, padding: zero, dilation: one },
};

const tolerance = 1e-5;

beforeAll(async () => {
  await gpu();
});

describeFamilies('convTranspose3d forward', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      expect(await forwardError(op, c, 51)).toBeLessThan(tolerance);
    });
  }

  it('without bias', async () => {
    expect(await forwardError(op, cases['stride 3 with a 2-wide kernel']!, 52, false)).toBeLessThan(tolerance);
  });
});

describeFamilies('convTranspose3d backward', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const e = await gradErrors(op, c, 61);
      expect(e.x).toBeLessThan(tolerance);
      expect(e.weight).toBeLessThan(tolerance);
      expect(e.bias).toBeLessThan(tolerance);
    });
  }

  it('the reference gradients match finite differences', () => {
    const c: ConvCase = {
      xShape: [2, 2, 3, 2, 3],
      wShape: [2, 3, 3, 2, 2],
      stride: [2, 1, 2],
      padding: [1, 0, 1],
      outputPadding: [1, 0, 0],
      dilation: [1, 1, 2],
    };
    const e = referenceGradErrors(op, c, 71);
    expect(e.x).toBeLessThan(1e-8);
    expect(e.weight).toBeLessThan(1e-8);
    expect(e.bias).toBeLessThan(1e-8);
  });
});

describe('convTranspose3d rejects bad input before any GPU work', () => {
  const x = () => zeros([1, 2, 3, 3, 3]);
  const w = () => zeros([2, 4, 2, 2, 2]);

  it('wrong ranks', () => {
    expect(() => convTranspose3d(zeros([2, 3, 3, 3]), w())).toThrow(
      'convTranspose3d: x must have rank 5 (N, C, D, H, W), got shape [2, 3, 3, 3]',
    );
    expect(() => convTranspose3d(x(), zeros([2, 4, 2]))).toThrow(
      'convTranspose3d: weight must have rank 5 (Cin, Cout, kD, kH, kW), got shape [2, 4, 2]',
    );
  });

  it('channel mismatch', () => {
    expect(() => convTranspose3d(x(), zeros([3, 4, 2, 2, 2]))).toThrow(
      'convTranspose3d: x has 2 channels (shape [1, 2, 3, 3, 3]) but weight [3, 4, 2, 2, 2] expects 3 input channels',
    );
  });

  it('bias size', () => {
    expect(() => convTranspose3d(x(), w(), zeros([2]))).toThrow(
      'convTranspose3d: bias must have shape [4] (one value per output channel), got [2]',
    );
  });

  it('outputPadding not smaller than stride or dilation', () => {
    expect(() => convTranspose3d(x(), w(), null, { stride: 2, outputPadding: [2, 0, 0] })).toThrow(
      'convTranspose3d: outputPadding [2, 0, 0] must be smaller than either stride [2, 2, 2] or dilation [1, 1, 1]',
    );
  });

  it('an output size below 1', () => {
    expect(() => convTranspose3d(zeros([1, 2, 1, 1, 1]), w(), null, { padding: [0, 1, 0] })).toThrow(
      'convTranspose3d: output size [2, 0, 2] is not positive (x [1, 2, 1, 1, 1], kernel [2, 2, 2], stride [1, 1, 1], padding ' +
        '[0, 1, 0], dilation [1, 1, 1])',
    );
  });

  it('non-positive stride', () => {
    expect(() => convTranspose3d(x(), w(), null, { stride: 0 })).toThrow(
      'convTranspose3d: stride must be positive integers (a number or [d, h, w]), got 0',
    );
  });
});
