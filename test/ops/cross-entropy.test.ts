// Weighted cross-entropy: forward and gradient against the float64 reference for every reduction,
// with and without class weights, NCDHW and plain [N, C] logits; the reference against finite
// differences; ±1e4 logits, each output against its own size; bad labels read as background; exact errors for bad input.
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src/index.js';
import { crossEntropy, type CrossEntropyOptions } from '../../src/ops/cross-entropy.js';
import { dot, gpu, maxElementRelError, rng } from '../helpers.js';
import * as ref from '../reference/losses.js';
import { expectClose, expectFiniteDifference, inputs, recordError, reportErrors } from '../helpers/gradcheck.js';
import { shapeSize } from '../../src/core/shape.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('crossEntropy');

function labelsFor(count: number, channels: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: count }, () => Math.floor(r() * channels));
}

const cases: { shape: number[]; reduction: NonNullable<CrossEntropyOptions['reduction']>; weighted: boolean }[] = [
  { shape: [2, 3, 7, 5, 6], reduction: 'mean', weighted: false },
  { shape: [2, 3, 7, 5, 6], reduction: 'mean', weighted: true },
  { shape: [2, 3, 7, 5, 6], reduction: 'sum', weighted: true },
  { shape: [2, 3, 7, 5, 6], reduction: 'none', weighted: true },
  { shape: [5, 4], reduction: 'mean', weighted: true },
  { shape: [3, 2, 9], reduction: 'none', weighted: false },
];

describe('crossEntropy', () => {
  for (const { shape, reduction, weighted } of cases) {
    it(`${JSON.stringify(shape)}, ${reduction}${weighted ? ', weighted' : ''}: forward and gradient`, async () => {
      const [batch, channels] = shape as [number, number];
      const voxels = shapeSize(shape.slice(2));
      const lossShape = { batch, channels, voxels };
      const labelShape = shape.filter((_, i) => i !== 1);
      const xs = inputs(batch * channels * voxels, 40, -3, 3);
      const labels = labelsFor(batch * voxels, channels, 41);
      const w = weighted ? inputs(channels, 42, 0.2, 2) : new Float64Array(channels).fill(1);
      const x = tensor(xs, shape, { requiresGrad: true });
      const loss = crossEntropy(x, tensor(labels, labelShape), { reduction, weight: weighted ? tensor(w, [channels]) : undefined });

      const { losses, weights } = ref.crossEntropy(xs, labels, lossShape, w);
      const totalWeight = weights.reduce((a, b) => a + b);
      const summed = losses.reduce((a, b) => a + b);
      const expected = { mean: [summed / totalWeight], sum: [summed], none: losses }[reduction];
      expect(loss.shape).toEqual(reduction === 'none' ? labelShape : []);
      expectClose('forward', await loss.toArray(), expected);

      const upstream = reduction === 'none' ? inputs(losses.length, 43) : [0.7];
      loss.backward(tensor(upstream, loss.shape));
      const perVoxel =
        reduction === 'none' ? upstream : new Array<number>(losses.length).fill(reduction === 'mean' ? 0.7 / totalWeight : 0.7);
      expectClose('gradient', await x.grad!.toArray(), ref.crossEntropyBackward(xs, labels, lossShape, w, perVoxel));
    });
  }

  it('reference gradient matches finite differences', () => {
    const lossShape = { batch: 2, channels: 3, voxels: 4 };
    const xs = inputs(24, 44, -2, 2);
    const labels = labelsFor(8, 3, 45);
    const w = inputs(3, 46, 0.2, 2);
    const upstream = inputs(8, 47);
    const analytic = ref.crossEntropyBackward(xs, labels, lossShape, w, upstream);
    expectFiniteDifference((x) => dot(ref.crossEntropy(x, labels, lossShape, w).losses, upstream), xs, analytic);
  });

  it('stays accurate on logits of ±1e4: each loss and gradient against its own size', async () => {
    // Pairs of logits [N=4, C=2], labelled so that losses (0.31, 1e-4·…) and softmax − onehot (−0.27)
    // are small beside the logits: max + log Σ alone rounds to the max's ulp, 5e-4 at 1e4, which is
    // 1.6e-3 of a 0.31 loss. WGSL's exp and log err by ~2⁻²¹ near 1; 1e-5 allowed.
    const xs = Float64Array.from([1e4, 1e4 - 1, -1e4, 0, 3e4, 3e4, 0, -1e4 + 1]);
    const labels = [0, 1, 1, 0];
    const lossShape = { batch: 4, channels: 2, voxels: 1 };
    const x = tensor(xs, [4, 2], { requiresGrad: true });
    const loss = crossEntropy(x, tensor(labels, [4]), { reduction: 'none' });
    const ones = [1, 1, 1, 1];
    const want = ref.crossEntropy(xs, labels, lossShape, [1, 1]).losses;
    const out = await loss.toArray();
    const forwardError = maxElementRelError(out, want);
    recordError('forward, large logits, per element', forwardError);
    expect(forwardError, `${Array.from(out)} vs ${Array.from(want)}`).toBeLessThan(1e-5);

    loss.backward(tensor(ones, [4]));
    const grad = await x.grad!.toArray();
    const wantGrad = ref.crossEntropyBackward(xs, labels, lossShape, [1, 1], ones);
    const gradError = maxElementRelError(grad, wantGrad);
    recordError('gradient, large logits, per element', gradError);
    expect(gradError, `${Array.from(grad)} vs ${Array.from(wantGrad)}`).toBeLessThan(1e-5);
  });

  it('reads labels that are not class indices as background', async () => {
    const xs = inputs(12, 48);
    const bad = [5, -1, 0.5, 2];
    const loss = crossEntropy(tensor(xs, [1, 3, 4]), tensor(bad, [1, 4]), { reduction: 'none' });
    expectClose(
      'forward',
      await loss.toArray(),
      ref.crossEntropy(xs, [0, 0, 0, 2], { batch: 1, channels: 3, voxels: 4 }, [1, 1, 1]).losses,
    );
  });

  it('rejects bad input before any GPU work, naming the op and the shapes', () => {
    const x = tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
    const labels = tensor(new Float32Array(8), [2, 4]);
    expect(() => crossEntropy(tensor([1, 2, 3], [3]), labels)).toThrow(
      'crossEntropy: logits must have rank 2 or more (N, C, ...spatial), got shape [3]',
    );
    expect(() => crossEntropy(x, tensor(new Float32Array(6), [2, 3]))).toThrow(
      'crossEntropy: target [2, 3] does not fit logits [2, 3, 4]: expected class labels [2, 4]',
    );
    expect(() => crossEntropy(x, x)).toThrow('crossEntropy: target [2, 3, 4] does not fit logits [2, 3, 4]: expected class labels [2, 4]');
    expect(() => crossEntropy(x, labels, { weight: tensor([1, 2], [2]) })).toThrow(
      'crossEntropy: weight must have shape [3] (one per class of logits [2, 3, 4]), got [2]',
    );
    expect(() => crossEntropy(x, labels, { reduction: 'max' as 'sum' })).toThrow(
      "crossEntropy: reduction must be 'mean', 'sum' or 'none', got 'max'",
    );
  });
});
