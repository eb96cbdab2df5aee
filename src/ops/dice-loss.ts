// The V-Net Dice loss (Milletari et al. 2016, section 3), for probabilities (a softmax output).
// For each sample n and each counted class c, over the voxels:
//   D = 2·Σ p·g / (Σ p² + Σ g² + eps),   loss = 1 − mean D   (mean over counted classes, then batch)
// eps (default 1e-6) keeps empty masks finite: an empty target with an all-zero prediction gives
// D = 0/eps = 0 (loss 1), not NaN. The backward is the paper's analytic gradient
// ∂D/∂p_j = 2·(g_j·U − 2·p_j·Σ p·g) / U² with U = Σ p² + Σ g² + eps, one kernel over probs using
// per-(sample, class) constants computed from the sums that the forward saved. kernels/dice.wgsl; the sums are a split reduction
// (row-sums.ts).
// With `softmax: true` the input is logits (like MONAI's DiceLoss(softmax=True)): the forward keeps
// the probabilities, and one backward kernel takes the Dice gradient through the softmax Jacobian,
// without the probability gradient in between.
import { getContext } from '../device/context.js';
import { uniformCapacity } from '../device/kernel-info.js';
import { record } from '../core/autograd.js';
import { empty, type Tensor } from '../core/tensor.js';
import { checkTarget } from './labels.js';
import { rowSums } from './row-sums.js';
import { softmaxForward } from './softmax.js';
import { runElementwise } from './util.js';

export interface DiceLossOptions {
  /** Classes that count (indices into dimension 1); default all but the background, class 0. */
  classes?: readonly number[];
  /** Added to every denominator; default 1e-6. */
  eps?: number;
  /** 'mean' (default): one value, the mean over the batch; 'none': per-sample losses [N]. */
  reduction?: 'mean' | 'none';
  /** The input is logits: apply softmax over dimension 1 first (default false: probabilities). */
  softmax?: boolean;
}

/** kernels/dice.wgsl lists the counted classes in a uniform array: as many as it holds. */
const maxCountedClasses = (): number => uniformCapacity('dice', 'partialSums', 'classes');

function countedClasses(inputName: string, channels: number, classes: readonly number[] | undefined): readonly number[] {
  if (classes === undefined) {
    if (channels < 2)
      throw new Error(
        `diceLoss: ${inputName} has ${channels} channel, so no class but the background (0) is left to count; pass classes: [0]`,
      );
    return Array.from({ length: channels - 1 }, (_, i) => i + 1);
  }
  if (classes.length === 0) throw new Error('diceLoss: classes is empty; list at least one class to count');
  if (classes.length > maxCountedClasses())
    throw new Error(`diceLoss: at most ${maxCountedClasses()} classes can be counted, got ${classes.length}`);
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= channels)
      throw new Error(`diceLoss: class ${c} is out of range for ${inputName} with ${channels} channels (expected 0 to ${channels - 1})`);
  }
  if (new Set(classes).size !== classes.length) throw new Error(`diceLoss: classes [${classes.join(', ')}] repeats a class`);
  return classes;
}

/**
 * 1 − mean Dice of input [N, C, ...spatial] (probabilities, or logits with `softmax: true`) against
 * class labels [N, ...spatial] (labels that are not integers in [0, C) count as background; see
 * checkLabels) or one-hot [N, C, ...spatial]. Differentiable in the input only.
 */
export function diceLoss(input: Tensor, target: Tensor, options: DiceLossOptions = {}): Tensor {
  const fromLogits = options.softmax ?? false;
  const inputName = fromLogits ? 'logits' : 'probs';
  const oneHot = checkTarget('diceLoss', inputName, input, target, true);
  const [batch, channels] = input.shape as [number, number];
  const classes = countedClasses(inputName, channels, options.classes);
  const eps = options.eps ?? 1e-6;
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new Error(`diceLoss: eps must be a finite number ≥ 0, got ${eps}`);
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'none')
    throw new Error(`diceLoss: reduction must be 'mean' or 'none', got '${String(reduction)}'`);

  const probs = fromLogits ? softmaxForward('diceLoss', input, 1) : input;
  const voxels = probs.size / (batch * channels);
  const classCount = classes.length;
  const constants = { ONE_HOT: oneHot ? 1 : 0 };
  // [3, batch · classCount]: Σ p·g, Σ p², Σ g² per (sample, counted class).
  const sums = rowSums(
    'diceLoss',
    'dice',
    'partialSums',
    { probs, targets: target },
    { channels, classCount, classes },
    { rows: batch * classCount, rowLength: voxels, stats: 3 },
    constants,
  );
  const mean = reduction === 'mean';
  const out = empty(mean ? [] : [batch]);
  getContext().dispatch({
    op: 'diceLoss',
    kernel: 'dice',
    entry: 'loss',
    bindings: { sums, out },
    params: { batch, classCount, eps, mean: mean ? 1 : 0 },
    workgroups: 1,
  });
  return record(
    'diceLoss',
    [input],
    out,
    (g) => {
      const ctx = getContext();
      const params = {
        n: probs.size,
        channels,
        voxels,
        classCount,
        eps,
        perSample: mean ? 0 : 1,
        scale: -1 / (classCount * (mean ? batch : 1)),
        batch,
        classes,
      };
      // ∂loss/∂p = A·g − B·p with (A, B) per (sample, counted class), computed once.
      const coefs = empty([batch * classCount, 2]);
      ctx.dispatch({ op: 'diceLoss', kernel: 'dice', entry: 'gradCoefs', bindings: { sums, g, coefsOut: coefs }, params, workgroups: 1 });
      const grad = empty(probs.shape);
      const bindings = { probs, targets: target, coefs, out: grad };
      if (fromLogits && voxels % 4 === 0) {
        // 4 voxels per invocation in vec4s.
        ctx.dispatch({
          op: 'diceLoss',
          kernel: 'dice',
          entry: 'backwardLogits4',
          bindings,
          params,
          constants,
          invocations: voxels / 4,
          planes: batch,
        });
      } else if (fromLogits) {
        ctx.dispatch({
          op: 'diceLoss',
          kernel: 'dice',
          entry: 'backwardLogits',
          bindings,
          params,
          constants,
          invocations: voxels,
          planes: batch,
        });
      } else {
        runElementwise('diceLoss', 'dice', 'backward', probs.size, bindings, params, constants);
      }
      return [grad];
    },
    fromLogits ? [sums, probs] : [sums],
  );
}
