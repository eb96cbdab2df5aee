// One optimisation step, with every intermediate freed before it returns: forward, loss,
// backward, update. The loss comes back as a one-element GPU tensor, so the caller decides when
// to read it (reading forces the step to finish).
import { getContext } from '../device/context.js';
import { tidy } from '../core/memory.js';
import { mul } from '../ops/binary.js';
import { full } from '../ops/creation.js';
import { keep } from '../core/scope.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { diceLoss } from '../ops/dice-loss.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../core/tensor.js';

export type LossKind = 'dice' | 'crossEntropy';

/** What the losses train: a network whose logits() gives [N, classes, D, H, W] (VNet, TfjsModel). */
export interface LogitsModel {
  logits(image: Tensor): Tensor;
}

export interface StepOptions {
  loss?: LossKind;
  /** Class weights for the cross-entropy loss (the paper's re-weighted baseline). */
  classWeights?: Tensor;
}

/** The loss of a batch (image [N, Cin, D, H, W]; labels [N, D, H, W] holding class indices), recorded for backward. */
export function batchLoss(model: LogitsModel, image: Tensor, labels: Tensor, options: StepOptions = {}): Tensor {
  return (options.loss ?? 'dice') === 'dice'
    ? // Softmax and Dice as one loss on the logits: one backward kernel instead of two.
      diceLoss(model.logits(image), labels, { softmax: true })
    : crossEntropy(model.logits(image), labels, { weight: options.classWeights });
}

/**
 * The loss scale of the mixed precision. Its convolutions round their operands to f16, whose
 * smallest normal number is 6.1e-5: V-Net's output gradients (~1e-6 per voxel at 128×128×64) would
 * be subnormals with a few significant bits. Measured on V-Net (bench/precision.ts, H200): without a
 * scale no gradient value flushed to 0, but weight gradients differed from fp32 by up to 38% of
 * their largest value; scaled by 2¹² they stay in f16's normal range (and far below its 65504).
 * A power of two, so scaling and unscaling are exact.
 */
export const mixedLossScale = 4096;

/**
 * loss.backward(), in the mixed precision with its gradients computed at `mixedLossScale` and
 * divided by it once backward is done; a plain backward in fp32. The params' gradients must be
 * cleared first (optimizer.zeroGrad()): whatever they held would be divided too.
 */
export function scaledBackward(loss: Tensor, params: Iterable<Tensor>): void {
  if (getContext().precision !== 'mixed') {
    loss.backward();
    return;
  }
  const seed = full(loss.shape, mixedLossScale);
  loss.backward(seed);
  seed.dispose();
  for (const p of params) {
    const g = p.grad;
    if (!g) continue;
    p.grad = keep(mul(g, 1 / mixedLossScale));
    g.dispose();
  }
}

/** image [N, Cin, D, H, W]; labels [N, D, H, W] holding class indices. */
export function trainStep(model: LogitsModel, optimizer: Optimizer, image: Tensor, labels: Tensor, options: StepOptions = {}): Tensor {
  return tidy(() => {
    optimizer.zeroGrad();
    const loss = batchLoss(model, image, labels, options);
    scaledBackward(loss, optimizer.params);
    optimizer.step();
    return loss.detach();
  });
}
