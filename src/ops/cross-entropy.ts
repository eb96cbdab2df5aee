// Cross-entropy with class re-weighting, PyTorch's cross_entropy for class-index targets: the
// multinomial logistic loss the V-Net paper compares its Dice loss against. Over channel
// dimension 1 of logits [N, C, ...spatial] and labels [N, ...spatial]; the weighted mean divides
// by Σ weight[label] (not by the voxel count), as PyTorch does. Labels that are not integers in
// [0, C) count as background (see checkLabels). kernels/cross_entropy.wgsl.
import { record } from '../core/autograd.js';
import { empty, formatShape, type Tensor } from '../core/tensor.js';
import { binaryRaw } from './raw.js';
import { full } from './creation.js';
import { checkTarget } from './labels.js';
import { sum } from './reduce.js';
import { runElementwise } from './util.js';

export interface CrossEntropyOptions {
  /** One weight per class [C]; default all 1. */
  weight?: Tensor;
  /** 'mean' (default, weighted), 'sum', or 'none' (per-voxel losses, the labels' shape). */
  reduction?: 'mean' | 'sum' | 'none';
}

export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkTarget('crossEntropy', 'logits', logits, target, false);
  const channels = logits.shape[1]!;
  if (options.weight && (options.weight.rank !== 1 || options.weight.size !== channels)) {
    throw new Error(
      `crossEntropy: weight must have shape [${channels}] (one per class of logits ${formatShape(logits.shape)}), got ` +
        `${formatShape(options.weight.shape)}`,
    );
  }
  const reduction = options.reduction ?? 'mean';
  if (!['mean', 'sum', 'none'].includes(reduction))
    throw new Error(`crossEntropy: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);

  const weight = options.weight ?? full([channels], 1);
  const voxels = target.size / logits.shape[0]!;
  const losses = empty(target.shape);
  const weights = empty([target.size]);
  // Per voxel its max and log Σ exp(x − max), kept apart (see the kernel).
  const lse = empty([2 * target.size]);
  runElementwise(
    'crossEntropy',
    'cross_entropy',
    'forward',
    target.size,
    { logits, labels: target, weight, losses, weights, lse },
    { n: target.size, channels, voxels, perVoxel: 0 },
  );

  let out = losses;
  // The mean's denominator Σ weight[label], kept for backward.
  let total: Tensor | null = null;
  if (reduction !== 'none') {
    out = sum(losses);
    losses.dispose();
  }
  if (reduction === 'mean') {
    total = sum(weights);
    const s = out;
    out = binaryRaw('crossEntropy', 'div', s, total);
    s.dispose();
  }
  weights.dispose();
  const owned = options.weight ? [] : [weight];
  return record(
    'crossEntropy',
    [logits],
    out,
    (g) => {
      // d loss / d loss_v: the upstream gradient, divided by Σ weight[label] for the mean.
      const coefs = total ? binaryRaw('crossEntropy', 'div', g, total) : g;
      const gx = empty(logits.shape);
      runElementwise(
        'crossEntropy',
        'cross_entropy',
        'backward',
        logits.size,
        { logits, labels: target, weight, lseSaved: lse, coefs, out: gx },
        {
          n: logits.size,
          channels,
          voxels,
          perVoxel: reduction === 'none' ? 1 : 0,
        },
      );
      return [gx];
    },
    [lse, ...(total ? [total] : []), ...owned],
  );
}
