// The tensor-core family (src/ops/conv/tensor-core.ts, kernels/conv/mma.wgsl) on this adapter: where
// it lacks subgroup matrices (llvmpipe, SwiftShader) the kernel runs emulated, the same indexing,
// halo, padding, edge fragments and K split as on tensor cores. Inputs are exact in f16 (multiples
// of 1/256 below 2), so every product and every partial sum is exact in f32: the result must match
// the float64 reference to f32 rounding, where a layout bug would be off by whole products.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { getContext, init, randn, tensor } from '../../src/index.js';
import type { Dispatch } from '../../src/device/context.js';
import { conv3d } from '../../src/ops/conv/conv3d.js';
import { convolve, weightGrad } from '../../src/ops/conv/path.js';
import { conv3dShape, convTranspose3dShape } from '../../src/ops/conv/shape.js';
import { tensorCoreTile, type TensorCoreTile } from '../../src/ops/conv/tensor-core.js';
import { shapeSize } from '../../src/core/shape.js';
import { maxRelError, randomArray, rng } from '../helpers.js';
import { conv3dGradRef, conv3dOutShape, conv3dRef, convTranspose3dRef, type ConvCase } from '../reference/conv.js';
import { conv3dUnderTest, convTranspose3dUnderTest, forwardError, gradErrors, type ConvUnderTest } from './conv-harness.js';

const tolerance = 1e-6;

/** Values exact in f16: k / 256 for integers |k| ≤ 384. */
function halfs(n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => Math.round((r() * 2 - 1) * 384) / 256);
}

const cases: Record<string, ConvCase> = {
  // 210 output voxels a sample (no whole fragments), 5 channels (padded to 8), 20 outputs (partial column tiles).
  '3×3×3 padding 1, 5→20 channels': {
    xShape: [2, 5, 5, 6, 7],
    wShape: [20, 5, 3, 3, 3],
    stride: [1, 1, 1],
    padding: [1, 1, 1],
    dilation: [1, 1, 1],
  },
  // 128 voxels (whole fragments stored straight to the output), K = 125 · 16 split over chunks.
  '5×5×5 padding 2, 16→32 channels': {
    xShape: [1, 16, 4, 4, 8],
    wShape: [32, 16, 5, 5, 5],
    stride: [1, 1, 1],
    padding: [2, 2, 2],
    dilation: [1, 1, 1],
  },
  '3×3×3 stride 2, dilation (1, 2, 1)': {
    xShape: [1, 3, 7, 8, 6],
    wShape: [6, 3, 3, 3, 3],
    stride: [2, 2, 2],
    padding: [1, 2, 1],
    dilation: [1, 2, 1],
  },
};

/** conv3d's forward pass, its input gradient (the transposed pass) or its weight gradient, on tile t. */
async function run(
  c: ConvCase,
  t: TensorCoreTile,
  pass: 'forward' | 'dx' | 'dw',
  seed: number,
): Promise<{ actual: Float32Array; expected: Float64Array }> {
  const x = halfs(shapeSize(c.xShape), seed);
  const w = halfs(shapeSize(c.wShape), seed + 1);
  const b = halfs(c.wShape[0], seed + 2);
  const outShape = conv3dOutShape(c);
  const g = halfs(shapeSize(outShape), seed + 3);
  const [xt, wt] = [tensor(x, c.xShape), tensor(w, c.wShape)];
  const { geometry } = conv3dShape(xt, wt, null, c);
  const op = 'conv3d';
  if (pass === 'forward') {
    const out = convolve(
      { op, src: xt, weight: wt, bias: tensor(b, [c.wShape[0]]), outSpatial: outShape.slice(2), geometry, transposed: false },
      t,
    );
    return { actual: await out.toArray(), expected: conv3dRef(c, x, w, b) };
  }
  if (pass === 'dw') {
    const out = weightGrad({ op, lhs: tensor(g, outShape), src: xt, geometry }, t);
    return { actual: await out.toArray(), expected: conv3dGradRef(c, x, w, g).weight };
  }
  const out = convolve(
    { op, src: tensor(g, outShape), weight: wt, bias: null, outSpatial: c.xShape.slice(2), geometry, transposed: true },
    t,
  );
  return { actual: await out.toArray(), expected: conv3dGradRef(c, x, w, g).x };
}

describe('the tensor-core family, emulated where the adapter has no subgroup matrices', () => {
  beforeAll(async () => {
    await init({ kernels: 'gpu' });
  });

  // Tiles of 1, 2 and 4 subgroups with 2 × 1 to 4 × 2 fragments each on every case; B straight from
  // storage (its rows padded to the last tile) on the two small cases; 4 × 4 fragments (bias rows
  // wider than one subgroup's scratch) on the first only (emulated, its long unrolled shader compiles
  // slowly on a CPU).
  const small = Object.keys(cases).filter((name) => !name.startsWith('5×5×5'));
  const tiles: [TensorCoreTile, string[]][] = [
    [tensorCoreTile(2, 1, 1, 1), Object.keys(cases)],
    [tensorCoreTile(2, 2, 2, 1), Object.keys(cases)],
    [tensorCoreTile(4, 1, 2, 2), Object.keys(cases)],
    [tensorCoreTile(4, 4, 1, 1), small.slice(0, 1)],
    [tensorCoreTile(4, 1, 2, 1, true), small],
  ];
  for (const [t, names] of tiles) {
    for (const name of names) {
      const c = cases[name]!;
      it(`tile ${t.name}: forward of ${name}`, async () => {
        const { actual, expected } = await run(c, t, 'forward', 1);
        expect(maxRelError(actual, expected)).toBeLessThan(tolerance);
      });
      it(`tile ${t.name}: weight gradient of ${name}`, async () => {
        const { actual, expected } = await run(c, t, 'dw', 2);
        expect(maxRelError(actual, expected)).toBeLessThan(tolerance);
      });
    }
  }

  it('runs the stride-1 input gradient as a forward conv with flipped, swapped weights', async () => {
    for (const c of [cases['3×3×3 padding 1, 5→20 channels']!, cases['5×5×5 padding 2, 16→32 channels']!]) {
      const { actual, expected } = await run(c, tensorCoreTile(2, 2, 2, 1), 'dx', 5);
      expect(maxRelError(actual, expected)).toBeLessThan(tolerance);
    }
  });

  // Strided transposed passes run as one forward conv per output phase (voxels ≡ r mod stride),
  // each on the taps that reach it; with dilation 2 along a stride-2 axis no tap reaches the odd
  // phase (its outputs are the bias alone).
  it('runs the strided input gradient as stride³ phase convolutions', async () => {
    const c = cases['3×3×3 stride 2, dilation (1, 2, 1)']!;
    const { actual, expected } = await run(c, tensorCoreTile(4, 1, 2, 1, true), 'dx', 6);
    expect(maxRelError(actual, expected)).toBeLessThan(tolerance);
  });

  const transposedCases: Record<string, ConvCase> = {
    // V-Net's up-convolution: kernel 2, stride 2 (every phase one tap), 20 → 12 channels.
    'kernel 2 stride 2, 20→12 channels': {
      xShape: [2, 20, 3, 4, 5],
      wShape: [20, 12, 2, 2, 2],
      stride: [2, 2, 2],
      padding: [0, 0, 0],
      dilation: [1, 1, 1],
    },
    // Phases with 1 and 2 taps, stride 3 along W (phases of 1, 1 and 0 taps: the bias alone), output padding, split K.
    'kernel 3, strides (2, 1, 3), padding (1, 0, 2), output padding (1, 0, 2), 40→6 channels': {
      xShape: [1, 40, 3, 4, 3],
      wShape: [40, 6, 3, 3, 2],
      stride: [2, 1, 3],
      padding: [1, 0, 2],
      dilation: [1, 1, 1],
      outputPadding: [1, 0, 2],
    },
  };
  for (const [name, c] of Object.entries(transposedCases)) {
    it(`convTranspose3d's forward pass (transposed) of ${name}`, async () => {
      const x = halfs(shapeSize(c.xShape), 7);
      const w = halfs(shapeSize(c.wShape), 8);
      const b = halfs(c.wShape[1], 9);
      const [xt, wt] = [tensor(x, c.xShape), tensor(w, c.wShape)];
      const { geometry, outShape } = convTranspose3dShape(xt, wt, null, c);
      const pass = { op: 'convTranspose3d', src: xt, weight: wt, bias: tensor(b, [c.wShape[1]]), outSpatial: outShape.slice(2), geometry };
      for (const t of [tensorCoreTile(2, 1, 1, 1), tensorCoreTile(4, 1, 2, 2)]) {
        const out = convolve({ ...pass, transposed: true }, t);
        expect(maxRelError(await out.toArray(), convTranspose3dRef(c, x, w, b))).toBeLessThan(tolerance);
      }
    });
  }

  it('gives bit-identical weight gradients run to run (split over K)', async () => {
    const c = cases['5×5×5 padding 2, 16→32 channels']!;
    const a = await run(c, tensorCoreTile(2, 1, 1, 1), 'dw', 9);
    const b = await run(c, tensorCoreTile(2, 1, 1, 1), 'dw', 9);
    expect(b.actual).toEqual(a.actual);
  });

  it('rejects tiles the kernel cannot hold, by name', () => {
    const c = cases['3×3×3 stride 2, dilation (1, 2, 1)']!;
    const [x, w] = [tensor(halfs(shapeSize(c.xShape), 1), c.xShape), tensor(halfs(shapeSize(c.wShape), 2), c.wShape)];
    const { geometry, outShape } = conv3dShape(x, w, null, c);
    const pass = { op: 'conv3d', src: x, weight: w, bias: null, outSpatial: outShape.slice(2), geometry, transposed: false };
    expect(() => convolve(pass, tensorCoreTile(2, 1, 4, 2))).toThrow(
      'conv3d: tensor-core tile tc128x32.f2x1 must give each invocation 1 to 8 whole 16-byte loads of each operand a step',
    );
    expect(() => convolve(pass, tensorCoreTile(2, 4, 1, 1))).toThrow(
      'conv3d: tensor-core tile tc32x64.f2x4 must have 4 × 1, 4 × 2 or 4 × 4 fragments, or 2 × 1 or 2 × 2 with B staged (the ' +
        'generated kernels)',
    );
  });
});

// On tensor cores (f16 operands of random f32 inputs): f16 keeps 11 significant bits (a relative
// rounding of at most 2⁻¹¹ ≈ 4.9e-4 each) and the products are summed in f32, so against the
// float64 reference errors of about 1e-3 of the output's largest value; 5e-3 bounds them.
const mixedTolerance = 5e-3;

describe('convolutions on tensor cores (where the adapter has them)', () => {
  let mixed = false;
  beforeAll(async () => {
    mixed = (await init({ precision: 'mixed-if-available' })).precision === 'mixed';
  });

  it(`conv3d and convTranspose3d through the chosen tiles, every pass within ${mixedTolerance} of float64`, async ({ skip }) => {
    if (!mixed) skip('no tensor cores on this adapter');
    const up: ConvCase = { xShape: [2, 8, 3, 2, 4], wShape: [8, 5, 2, 2, 2], stride: [2, 2, 2], padding: [0, 0, 0], dilation: [1, 1, 1] };
    const k5: ConvCase = { xShape: [1, 3, 5, 4, 8], wShape: [3, 6, 5, 5, 5], stride: [1, 1, 1], padding: [2, 2, 2], dilation: [1, 1, 1] };
    const runs: [ConvUnderTest, ConvCase][] = [
      ...Object.values(cases).map((c): [ConvUnderTest, ConvCase] => [conv3dUnderTest, c]),
      [convTranspose3dUnderTest, up],
      [convTranspose3dUnderTest, k5],
    ];
    for (const [op, c] of runs) {
      const e = await gradErrors(op, c, 9);
      expect(await forwardError(op, c, 10)).toBeLessThan(mixedTolerance);
      expect(Math.max(e.x, e.weight, e.bias)).toBeLessThan(mixedTolerance);
    }
    const spy = vi.spyOn(getContext(), 'dispatch');
    convTranspose3dUnderTest.run(randn(up.xShape), randn(up.wShape), null, up);
    const kernels = (spy.mock.calls as [Dispatch][]).map(([d]) => d.kernel).filter((k) => k.startsWith('conv/'));
    spy.mockRestore();
    expect(new Set(kernels)).toEqual(new Set(['conv/mma-layout', `conv/mma-native-2-1-staged`]));
  });

  it('gives bit-identical results run to run', async ({ skip }) => {
    if (!mixed) skip('no tensor cores on this adapter');
    const run = async (): Promise<Buffer> => {
      const x = tensor(randomArray(2 * 6 * 6 * 6 * 8, 11), [2, 6, 6, 6, 8], { requiresGrad: true });
      const w = tensor(randomArray(16 * 6 * 125, 12), [16, 6, 5, 5, 5], { requiresGrad: true });
      const y = conv3d(x, w, null, { padding: 2 });
      y.backward(tensor(randomArray(y.size, 13), y.shape));
      return Buffer.concat([await y.toArray(), await x.grad!.toArray(), await w.grad!.toArray()].map((a) => Buffer.from(a.buffer)));
    };
    expect((await run()).equals(await run())).toBe(true);
  });
});
