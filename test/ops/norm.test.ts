// instanceNorm, groupNorm and batchNorm (training and inference) against float64 references, every
// gradient (x, weight, bias) against finite differences (checkOp); batch norm's in-place running
// statistics against PyTorch's update rule; large offsets (the two-pass variance), planes longer
// than one grid row (the kernels' loop), more planes than one grid axis holds, planes of whole
// vec4s (norm/vec4) and not (norm/scalar); bad arguments.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { noGrad, tensor } from '../../src/index.js';
import { batchNorm, groupNorm, instanceNorm, instanceNormStatistics } from '../../src/ops/norm.js';
import { narrow } from '../../src/ops/concat.js';
import { gpu } from '../helpers.js';
import * as ref from '../reference/norm.js';
import { checkOp, expectClose, inputs, reportErrors, type InputSpec } from '../helpers/gradcheck.js';
import { shapeSize } from '../../src/core/shape.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('norm');

const affineInputs = (channels: number): InputSpec[] => [
  { shape: [channels], range: [0.5, 1.5] },
  { shape: [channels], range: [-0.5, 0.5] },
];

describe('instanceNorm', () => {
  const cases: { shape: number[]; range?: [number, number]; forwardTol?: number; fdSamples?: number }[] = [
    { shape: [2, 3, 4, 5, 3] },
    { shape: [1, 2, 7] },
    // A mean 100 times the spread: one-pass Σx² − (Σx)²/n would lose every digit in float32.
    { shape: [2, 2, 3, 4, 5], range: [100, 101], forwardTol: 1e-4 },
    // Planes longer than the kernels' 256 workgroups of 256 invocations, so they loop: in vec4s
    // (294912 elements) and in scalars (70001, not a multiple of 4).
    { shape: [1, 2, 72, 64, 64], fdSamples: 16 },
    { shape: [1, 2, 70001], fdSamples: 16 },
    // 70000 planes: more workgroup rows than one grid axis holds.
    { shape: [1, 70000, 4], fdSamples: 16 },
  ];
  for (const { shape, range, forwardTol, fdSamples } of cases) {
    const c = shape[1]!;
    it(`x ${JSON.stringify(shape)}${range ? ` in [${range}]` : ''}, weight and bias: forward and gradients`, async () => {
      await checkOp(`instanceNorm ${shape} ${range}`, {
        inputs: [{ shape, range }, ...affineInputs(c)],
        forward: (x, weight, bias) => instanceNorm(x!, { weight, bias }),
        reference: (x, weight, bias) => ({ data: ref.normalize(x!, shape, c, { weight, bias }), shape }),
        forwardTol,
        fdSamples: fdSamples ?? 48,
        gradTol: 2e-4,
      });
    });
  }

  it('without weight and bias, eps 1e-3', async () => {
    const shape = [2, 3, 5, 2, 3];
    await checkOp('instanceNorm plain', {
      inputs: [{ shape }],
      forward: (x) => instanceNorm(x!, { eps: 1e-3 }),
      reference: (x) => ({ data: ref.normalize(x!, shape, 3, { eps: 1e-3 }), shape }),
      fdSamples: 48,
    });
  });

  it('gradients for weight and bias only (x a constant)', async () => {
    const shape = [2, 3, 4, 4];
    await checkOp('instanceNorm affine only', {
      inputs: [{ shape, grad: false }, ...affineInputs(3)],
      forward: (x, weight, bias) => instanceNorm(x!, { weight, bias }),
      reference: (x, weight, bias) => ({ data: ref.normalize(x!, shape, 3, { weight, bias }), shape }),
    });
  });
});

describe("brainchop's instance normalisation", () => {
  // brainchop normalises the output of every conv layer whose name ends in _gn (mindgrab) with
  // tf.moments(x, [1, 2, 3], true) and x − mean times rsqrt(variance + 1e-5) on [1, D, H, W, C]
  // (LayerNormInPlace in its tensor-utils.js): instanceNorm's defaults on the same data in NCDHW.
  it('equals its TF.js computation (CPU backend)', async () => {
    await tf.setBackend('cpu');
    const shape = [1, 3, 6, 5, 4];
    const xs = inputs(shapeSize(shape), 31, -2, 5);
    const want = tf.tidy(() => {
      const x = tf.tensor(Float32Array.from(xs), shape).transpose([0, 2, 3, 4, 1]);
      const { mean, variance } = tf.moments(x, [1, 2, 3], true);
      return x
        .sub(mean)
        .mul(tf.rsqrt(variance.add(1e-5)))
        .transpose([0, 4, 1, 2, 3])
        .dataSync();
    });
    expectClose('brainchop instance norm', await instanceNorm(tensor(xs, shape)).toArray(), want, 1e-5);
  });
});

describe('instanceNormStatistics', () => {
  it('gives the per-(sample, channel) mean and biased variance', async () => {
    const shape = [2, 3, 5, 4, 3];
    const xs = inputs(shapeSize(shape), 21, -1, 2);
    const { mean, variance } = instanceNormStatistics(tensor(xs, shape));
    expect(mean.shape).toEqual([2, 3]);
    const want = ref.rowStats(xs, shape, 3);
    expectClose('statistics mean', await mean.toArray(), want.mean);
    expectClose('statistics variance', await variance.toArray(), want.variance);
  });

  it('per slab, merged, then batchNorm on each slab: instanceNorm of the whole volume', async () => {
    const shape = [1, 2, 6, 5, 4];
    const xs = inputs(shapeSize(shape), 22, -1, 3);
    const whole = tensor(xs, shape);
    const slabs = [narrow(whole, 2, 0, 2), narrow(whole, 2, 2, 4)];
    const counts = slabs.map((s) => s.size / 2);
    const stats = await Promise.all(
      slabs.map(async (s) => {
        const { mean, variance } = instanceNormStatistics(s);
        return { mean: await mean.toArray(), variance: await variance.toArray() };
      }),
    );
    const total = counts[0]! + counts[1]!;
    const mean = [0, 1].map((c) => stats.reduce((a, s, k) => a + (s.mean[c]! * counts[k]!) / total, 0));
    const variance = [0, 1].map((c) =>
      stats.reduce((a, s, k) => a + (counts[k]! * (s.variance[c]! + (s.mean[c]! - mean[c]!) ** 2)) / total, 0),
    );
    const runningMean = tensor(mean, [2]);
    const runningVar = tensor(variance, [2]);
    const parts = await Promise.all(slabs.map((s) => batchNorm(s, { runningMean, runningVar, training: false }).toArray()));
    const expected = await instanceNorm(whole).toArray();
    // Slab 0 holds D planes 0-1 of each channel, slab 1 planes 2-5: put them back in place.
    const plane = 5 * 4;
    const joined = new Float32Array(xs.length);
    for (let c = 0; c < 2; c++) {
      joined.set(parts[0]!.subarray(c * 2 * plane, (c + 1) * 2 * plane), c * 6 * plane);
      joined.set(parts[1]!.subarray(c * 4 * plane, (c + 1) * 4 * plane), (c * 6 + 2) * plane);
    }
    expectClose('slab-merged instance norm', joined, expected);
  });
});

describe('groupNorm', () => {
  const cases: { shape: number[]; groups: number }[] = [
    { shape: [2, 6, 3, 4], groups: 3 },
    { shape: [2, 6, 3, 2, 2], groups: 1 },
    { shape: [2, 4, 5], groups: 4 },
    { shape: [3, 4], groups: 2 },
  ];
  for (const { shape, groups } of cases) {
    it(`x ${JSON.stringify(shape)}, ${groups} groups: forward and gradients`, async () => {
      await checkOp(`groupNorm ${shape} ${groups}`, {
        inputs: [{ shape }, ...affineInputs(shape[1]!)],
        forward: (x, weight, bias) => groupNorm(x!, groups, { weight, bias }),
        reference: (x, weight, bias) => ({ data: ref.normalize(x!, shape, groups, { weight, bias }), shape }),
        fdSamples: 48,
        gradTol: 2e-4,
      });
    });
  }
});

describe('a weight or a bias alone (the other the kernel constant 1 or 0)', () => {
  const shape = [2, 4, 3, 5];
  it('groupNorm with a weight only: forward and gradients', async () => {
    await checkOp('groupNorm weight only', {
      inputs: [{ shape }, affineInputs(4)[0]!],
      forward: (x, weight) => groupNorm(x!, 2, { weight }),
      reference: (x, weight) => ({ data: ref.normalize(x!, shape, 2, { weight }), shape }),
      fdSamples: 48,
      gradTol: 2e-4,
    });
  });
  it('batchNorm (training) with a bias only: forward and gradients', async () => {
    await checkOp('batchNorm bias only', {
      inputs: [{ shape }, affineInputs(4)[1]!],
      forward: (x, bias) => batchNorm(x!, { bias, training: true }),
      reference: (x, bias) => ({ data: ref.normalize(x!, shape, 'batch', { bias }), shape }),
      fdSamples: 48,
      gradTol: 2e-4,
    });
  });
});

describe('batchNorm', () => {
  const shapes = [
    [4, 3, 2, 3, 2],
    [5, 3],
    [2, 4, 3, 5],
  ];
  for (const shape of shapes) {
    const c = shape[1]!;
    it(`training, x ${JSON.stringify(shape)}: batch statistics, forward and gradients`, async () => {
      await checkOp(`batchNorm train ${shape}`, {
        inputs: [{ shape }, ...affineInputs(c)],
        forward: (x, weight, bias) => batchNorm(x!, { weight, bias, training: true }),
        reference: (x, weight, bias) => ({ data: ref.normalize(x!, shape, 'batch', { weight, bias }), shape }),
        fdSamples: 48,
        gradTol: 2e-4,
      });
    });

    it(`inference, x ${JSON.stringify(shape)}: running statistics, forward and gradients`, async () => {
      await checkOp(`batchNorm eval ${shape}`, {
        inputs: [{ shape }, ...affineInputs(c), { shape: [c], grad: false }, { shape: [c], range: [0.5, 2], grad: false }],
        forward: (x, weight, bias, runningMean, runningVar) => batchNorm(x!, { weight, bias, runningMean, runningVar, training: false }),
        reference: (x, weight, bias, mean, variance) => ({
          data: ref.normalize(x!, shape, 'batch', { weight, bias }, { mean: mean!, variance: variance!, count: 0 }),
          shape,
        }),
        fdSamples: 48,
      });
    });
  }

  it('training updates the running statistics in place (momentum 0.1 and 0.3, unbiased variance)', async () => {
    const shape = [3, 2, 4, 5];
    const xs = inputs(shapeSize(shape), 7, -2, 3);
    let running = { mean: inputs(2, 8), variance: inputs(2, 9, 0.5, 2) };
    const runningMean = tensor(running.mean, [2]);
    const runningVar = tensor(running.variance, [2]);
    const batch = ref.rowStats(xs, shape, 'batch');
    for (const momentum of [0.1, 0.3]) {
      batchNorm(tensor(xs, shape), { runningMean, runningVar, training: true, momentum }).dispose();
      running = ref.updatedRunning(running, batch, momentum);
      expectClose('running mean', await runningMean.toArray(), running.mean);
      expectClose('running var', await runningVar.toArray(), running.variance);
    }
  });
});

describe('memory', () => {
  it('frees its statistics after the forward (no grad) and after backward', async () => {
    const ctx = await gpu();
    const shape = [2, 4, 3, 3, 3];
    const x = tensor(inputs(shapeSize(shape), 11), shape, { requiresGrad: true });
    const weight = tensor(inputs(4, 12), [4], { requiresGrad: true });
    const before = ctx.memory().bytesInUse;
    noGrad(() => groupNorm(x, 2, { weight }).dispose());
    expect(ctx.memory().bytesInUse).toBe(before);
    const y = batchNorm(x, { weight, training: true });
    const upstream = tensor(inputs(x.size, 13), shape);
    y.backward(upstream);
    for (const t of [y, upstream]) t.dispose();
    for (const t of [x, weight]) {
      t.grad!.dispose();
      t.grad = null;
    }
    expect(ctx.memory().bytesInUse).toBe(before);
  });
});

describe('bad arguments', () => {
  it('name the op and the shapes', () => {
    const x = tensor(new Float32Array(2 * 6 * 4), [2, 6, 4]);
    expect(() => instanceNorm(tensor([1, 2, 3, 4], [2, 2]))).toThrow(
      'instanceNorm: x must have rank 3 or more (N, C, spatial...), got shape [2, 2]',
    );
    expect(() => instanceNorm(x, { weight: tensor([1, 2], [2]) })).toThrow(
      'instanceNorm: weight must have shape [6] (one value per channel of x [2, 6, 4]), got [2]',
    );
    expect(() => groupNorm(x, 4)).toThrow('groupNorm: groups must be a positive integer dividing the 6 channels of x [2, 6, 4], got 4');
    expect(() => groupNorm(x, 2, { bias: tensor([1, 2, 3, 4, 5, 6], [1, 6]) })).toThrow(
      'groupNorm: bias must have shape [6] (one value per channel of x [2, 6, 4]), got [1, 6]',
    );
    expect(() => groupNorm(x, 2, { eps: -1 })).toThrow('groupNorm: eps must be a finite number ≥ 0, got -1');
    expect(() => batchNorm(x, { training: false })).toThrow('batchNorm: inference (training: false) needs runningMean and runningVar');
    expect(() => batchNorm(x, { training: true, runningMean: tensor([0, 0, 0], [3]), runningVar: tensor([1, 1, 1], [3]) })).toThrow(
      'batchNorm: runningMean must have shape [6] (one value per channel of x [2, 6, 4]), got [3]',
    );
    expect(() => batchNorm(x, { training: true, runningMean: tensor(new Float32Array(6), [6]) })).toThrow(
      'batchNorm: runningMean and runningVar must be given together',
    );
    expect(() => batchNorm(tensor([1, 2, 3], [1, 3]), { training: true })).toThrow(
      'batchNorm: expected more than 1 value per channel when training, got x [1, 3]',
    );
  });
});
