// The V-Net Dice loss: forward and the paper's analytic gradient against the float64 reference
// (label and one-hot targets, default and explicit classes, both reductions, a volume that takes
// many chunks per row), the reference against finite differences, the paper's formula on a case
// worked by hand, empty masks, bad labels (background in the loss, reported by checkLabels) and
// the exact errors for bad input. With softmax: true (logits in): the same against the reference
// composed with softmax, its finite differences, and equality with diceLoss(softmax(logits)).
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src/index.js';
import { diceLoss, type DiceLossOptions } from '../../src/ops/dice-loss.js';
import { checkLabels } from '../../src/ops/labels.js';
import { dot, gpu, rng } from '../helpers.js';
import { softmax as softmaxOp } from '../../src/ops/softmax.js';
import { softmax, softmaxBackward } from '../reference/activations.js';
import * as ref from '../reference/losses.js';
import { expectClose, expectFiniteDifference, inputs, reportErrors } from '../helpers/gradcheck.js';
import { shapeSize } from '../../src/core/shape.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('diceLoss');

/** Softmax probabilities (float32-rounded) and integer labels for [batch, channels, ...spatial]. */
function problem(batch: number, channels: number, spatial: number[], seed: number) {
  const voxels = shapeSize(spatial);
  const shape = { batch, channels, voxels };
  const probs = Float64Array.from(Float32Array.from(softmax(inputs(batch * channels * voxels, seed, -3, 3), [batch, channels, voxels], 1)));
  const r = rng(seed + 1);
  const labels = Float64Array.from({ length: batch * voxels }, () => Math.floor(r() * channels));
  return { shape, probs, labels, probsShape: [batch, channels, ...spatial], labelShape: [batch, ...spatial] };
}

const cases: { name: string; batch: number; channels: number; spatial: number[]; options: DiceLossOptions; oneHot?: boolean }[] = [
  { name: 'binary (the paper)', batch: 2, channels: 2, spatial: [7, 5, 6], options: {} },
  { name: 'C = 3, default classes', batch: 2, channels: 3, spatial: [7, 5, 6], options: {} },
  { name: 'C = 3, per sample', batch: 2, channels: 3, spatial: [7, 5, 6], options: { reduction: 'none' } },
  { name: 'C = 4, classes [0, 2], eps 0.1', batch: 2, channels: 4, spatial: [3, 5, 2], options: { classes: [0, 2], eps: 0.1 } },
  { name: 'C = 3, one-hot target', batch: 2, channels: 3, spatial: [7, 5, 6], options: {}, oneHot: true },
  {
    name: 'C = 3, one-hot, per sample, classes [2, 1]',
    batch: 2,
    channels: 3,
    spatial: [4, 3, 5],
    options: { reduction: 'none', classes: [2, 1] },
    oneHot: true,
  },
  { name: '40³ volume (many chunks per row)', batch: 2, channels: 2, spatial: [40, 40, 40], options: {} },
];

describe('diceLoss', () => {
  for (const c of cases) {
    it(`${c.name}: forward and gradient`, async () => {
      const { shape, probs, labels, probsShape, labelShape } = problem(c.batch, c.channels, c.spatial, 30);
      const g = ref.oneHot(labels, shape);
      const classes = c.options.classes ?? Array.from({ length: c.channels - 1 }, (_, i) => i + 1);
      const eps = c.options.eps ?? 1e-6;
      const perSample = ref.diceLoss(probs, g, shape, classes, eps);
      const mean = c.options.reduction !== 'none';
      const upstream = mean ? [0.7] : inputs(c.batch, 31);
      const p = tensor(probs, probsShape, { requiresGrad: true });
      const target = c.oneHot ? tensor(g, probsShape) : tensor(labels, labelShape);
      const loss = diceLoss(p, target, c.options);
      expect(loss.shape).toEqual(mean ? [] : [c.batch]);
      expectClose('forward', await loss.toArray(), mean ? [perSample.reduce((a, b) => a + b) / c.batch] : perSample);
      loss.backward(tensor(upstream, loss.shape));
      const perSampleUpstream = mean ? new Array<number>(c.batch).fill(upstream[0]! / c.batch) : upstream;
      expectClose('gradient', await p.grad!.toArray(), ref.diceLossBackward(probs, g, shape, classes, eps, perSampleUpstream));
    });
  }

  it('reference gradient matches finite differences', () => {
    const { shape, probs, labels } = problem(2, 3, [4], 32);
    const g = ref.oneHot(labels, shape);
    const upstream = inputs(2, 33);
    for (const classes of [[1, 2], [0]]) {
      const analytic = ref.diceLossBackward(probs, g, shape, classes, 1e-6, upstream);
      expectFiniteDifference((p) => dot(ref.diceLoss(p, g, shape, classes, 1e-6), upstream), probs, analytic);
    }
  });

  it("follows the paper's formula on a case worked by hand", async () => {
    // Foreground p = [0.9, 0.2, 0.6, 0.1], labels [1, 0, 1, 1]: Σpg = 1.6, Σp² = 1.22, Σg² = 3.
    const p = tensor([0.1, 0.8, 0.4, 0.9, 0.9, 0.2, 0.6, 0.1], [1, 2, 1, 2, 2], { requiresGrad: true });
    const loss = diceLoss(p, tensor([1, 0, 1, 1], [1, 1, 2, 2]), { eps: 0 });
    expectClose('forward', [await loss.item()], [1 - (2 * 1.6) / 4.22]);
    loss.backward();
    // ∂loss/∂p_j = −2·(g_j·4.22 − 2·p_j·1.6) / 4.22²; background (class 0) gets none.
    const fg = [0.9, 0.2, 0.6, 0.1].map((pj, j) => (-2 * ([1, 0, 1, 1][j]! * 4.22 - 2 * pj * 1.6)) / 4.22 ** 2);
    expectClose('gradient', await p.grad!.toArray(), [0, 0, 0, 0, ...fg]);
  });

  it('gives the same loss and gradient for labels and their one-hot encoding', async () => {
    const { shape, probs, labels, probsShape, labelShape } = problem(2, 4, [3, 4, 5], 35);
    const results = [];
    for (const target of [tensor(labels, labelShape), tensor(ref.oneHot(labels, shape), probsShape)]) {
      const p = tensor(probs, probsShape, { requiresGrad: true });
      const loss = diceLoss(p, target, { classes: [3, 1, 0] });
      loss.backward();
      results.push({ loss: await loss.item(), grad: await p.grad!.toArray() });
    }
    expect(results[1]!.loss).toBe(results[0]!.loss);
    expect(Array.from(results[1]!.grad)).toEqual(Array.from(results[0]!.grad));
  });

  it('is finite on an empty target with an empty prediction (D = 0/eps = 0, loss 1)', async () => {
    const p = tensor([1, 1, 1, 0, 0, 0], [1, 2, 3, 1, 1], { requiresGrad: true });
    const loss = diceLoss(p, tensor([0, 0, 0], [1, 3, 1, 1]));
    expect(await loss.item()).toBe(1);
    loss.backward();
    expect(Array.from(await p.grad!.toArray()).every((v) => v === 0)).toBe(true);
  });

  it('reads labels that are not class indices as background; checkLabels reports them', async () => {
    const { shape, probs, probsShape } = problem(1, 3, [2, 2, 2], 34);
    const bad = [0, 7, 2, -1, 1.5, 1, NaN, 2];
    const asBackground = bad.map((l) => (Number.isInteger(l) && l >= 0 && l < 3 ? l : 0));
    const loss = diceLoss(tensor(probs, probsShape), tensor(bad, [1, 2, 2, 2]));
    expectClose('forward', [await loss.item()], ref.diceLoss(probs, ref.oneHot(asBackground, shape), shape, [1, 2], 1e-6));
    await expect(checkLabels(tensor(bad, [1, 2, 2, 2]), 3)).rejects.toThrow(
      'checkLabels: 4 of 8 labels in target [1, 2, 2, 2] are not integers in [0, 3)',
    );
    await expect(checkLabels(tensor(asBackground, [1, 2, 2, 2]), 3)).resolves.toBeUndefined();
    await expect(checkLabels(tensor(asBackground, [1, 2, 2, 2]), 2)).rejects.toThrow(
      'checkLabels: 2 of 8 labels in target [1, 2, 2, 2] are not integers in [0, 2)',
    );
  });

  it('gives the target no gradient', async () => {
    const p = tensor([0.3, 0.7], [1, 2, 1], { requiresGrad: true });
    const target = tensor([0, 1], [1, 2, 1], { requiresGrad: true });
    diceLoss(p, target).backward();
    expect(target.grad).toBeNull();
    expect(p.grad).not.toBeNull();
  });

  // Voxel counts that are multiples of 4 take the vec4 backward; 105 and 30 the scalar one.
  const logitCases: { name: string; batch: number; channels: number; spatial: number[]; options: DiceLossOptions; oneHot?: boolean }[] = [
    { name: 'binary, odd volume', batch: 2, channels: 2, spatial: [7, 5, 3], options: {} },
    {
      name: 'C = 4, classes [0, 2], per sample',
      batch: 3,
      channels: 4,
      spatial: [3, 5, 2],
      options: { classes: [0, 2], reduction: 'none' },
    },
    { name: 'C = 3, one-hot target', batch: 2, channels: 3, spatial: [6, 5, 6], options: {}, oneHot: true },
    { name: '40³ volume', batch: 1, channels: 2, spatial: [40, 40, 40], options: {} },
  ];
  for (const c of logitCases) {
    it(`softmax: true, ${c.name}: forward and gradient for the logits`, async () => {
      const { shape, labels, probsShape, labelShape } = problem(c.batch, c.channels, c.spatial, 36);
      const flat = [c.batch, c.channels, shape.voxels];
      const logits = inputs(c.batch * c.channels * shape.voxels, 37, -3, 3);
      const probs = softmax(logits, flat, 1);
      const g = ref.oneHot(labels, shape);
      const classes = c.options.classes ?? Array.from({ length: c.channels - 1 }, (_, i) => i + 1);
      const perSample = ref.diceLoss(probs, g, shape, classes, 1e-6);
      const mean = c.options.reduction !== 'none';
      const upstream = mean ? [0.7] : inputs(c.batch, 38);
      const z = tensor(logits, probsShape, { requiresGrad: true });
      const loss = diceLoss(z, c.oneHot ? tensor(g, probsShape) : tensor(labels, labelShape), { ...c.options, softmax: true });
      expectClose('softmax forward', await loss.toArray(), mean ? [perSample.reduce((a, b) => a + b) / c.batch] : perSample);
      loss.backward(tensor(upstream, loss.shape));
      const perSampleUpstream = mean ? new Array<number>(c.batch).fill(upstream[0]! / c.batch) : upstream;
      const gradProbs = ref.diceLossBackward(probs, g, shape, classes, 1e-6, perSampleUpstream);
      expectClose('softmax gradient', await z.grad!.toArray(), softmaxBackward(probs, gradProbs, flat, 1));
    });
  }

  it('softmax: true, reference gradient through the softmax matches finite differences', () => {
    const { shape, labels } = problem(2, 3, [4], 39);
    const flat = [2, 3, 4];
    const logits = inputs(24, 40, -2, 2);
    const g = ref.oneHot(labels, shape);
    const upstream = inputs(2, 41);
    const probs = softmax(logits, flat, 1);
    const analytic = softmaxBackward(probs, ref.diceLossBackward(probs, g, shape, [1, 2], 1e-6, upstream), flat, 1);
    expectFiniteDifference((z) => dot(ref.diceLoss(softmax(z, flat, 1), g, shape, [1, 2], 1e-6), upstream), logits, analytic);
  });

  it('softmax: true equals diceLoss(softmax(logits)), gradient included', async () => {
    const { labels, probsShape, labelShape } = problem(2, 3, [4, 6, 5], 42);
    const logits = inputs(2 * 3 * 120, 43, -3, 3);
    const run = async (fused: boolean) => {
      const z = tensor(logits, probsShape, { requiresGrad: true });
      const target = tensor(labels, labelShape);
      const loss = fused ? diceLoss(z, target, { softmax: true }) : diceLoss(softmaxOp(z, 1), target);
      loss.backward();
      return [await loss.toArray(), await z.grad!.toArray()];
    };
    const [fused, unfused] = [await run(true), await run(false)];
    expectClose('vs unfused', fused[0]!, unfused[0]!);
    expectClose('vs unfused', fused[1]!, unfused[1]!);
  });

  it('rejects bad input before any GPU work, naming the op and the shapes', () => {
    const p = tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
    const labels = tensor(new Float32Array(8), [2, 4]);
    expect(() => diceLoss(tensor([1, 2], [2]), labels)).toThrow(
      'diceLoss: probs must have rank 2 or more (N, C, ...spatial), got shape [2]',
    );
    expect(() => diceLoss(p, tensor(new Float32Array(6), [2, 3]))).toThrow(
      'diceLoss: target [2, 3] does not fit probs [2, 3, 4]: expected class labels [2, 4] or one-hot [2, 3, 4]',
    );
    expect(() => diceLoss(p, labels, { classes: [3] })).toThrow(
      'diceLoss: class 3 is out of range for probs with 3 channels (expected 0 to 2)',
    );
    expect(() => diceLoss(p, labels, { classes: [1, 1] })).toThrow('diceLoss: classes [1, 1] repeats a class');
    expect(() => diceLoss(p, labels, { classes: [] })).toThrow('diceLoss: classes is empty; list at least one class to count');
    expect(() => diceLoss(tensor(new Float32Array(4), [2, 1, 2]), tensor(new Float32Array(4), [2, 2]))).toThrow(
      'diceLoss: probs has 1 channel, so no class but the background (0) is left to count; pass classes: [0]',
    );
    expect(() => diceLoss(p, labels, { eps: -1 })).toThrow('diceLoss: eps must be a finite number ≥ 0, got -1');
    expect(() => diceLoss(p, labels, { reduction: 'sum' as 'mean' })).toThrow("diceLoss: reduction must be 'mean' or 'none', got 'sum'");
    expect(() => diceLoss(p, tensor(new Float32Array(6), [2, 3]), { softmax: true })).toThrow(
      'diceLoss: target [2, 3] does not fit logits [2, 3, 4]: expected class labels [2, 4] or one-hot [2, 3, 4]',
    );
    expect(() => diceLoss(p, labels, { classes: [3], softmax: true })).toThrow(
      'diceLoss: class 3 is out of range for logits with 3 channels (expected 0 to 2)',
    );
  });
});
