// One optimisation step, with every intermediate freed before it returns: forward, loss,
// backward, update. The loss comes back as a one-element GPU tensor, so the caller decides when
// to read it (reading forces the step to finish).
import { tidy } from '../memory.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { diceLoss } from '../ops/dice-loss.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor.js';
import type { VNet } from './vnet.js';

export type LossKind = 'dice' | 'crossEntropy';

export interface StepOptions {
  loss?: LossKind;
  /** Class weights for the cross-entropy loss (the paper's re-weighted baseline). */
  classWeights?: Tensor;
}

/** The loss of a batch (image [N, Cin, D, H, W]; labels [N, D, H, W] holding class indices), recorded for backward. */
export function batchLoss(model: VNet, image: Tensor, labels: Tensor, options: StepOptions = {}): Tensor {
  return (options.loss ?? 'dice') === 'dice'
    ? // Softmax and Dice as one loss on the logits: one backward kernel instead of two.
      diceLoss(model.logits(image), labels, { softmax: true })
    : crossEntropy(model.logits(image), labels, { weight: options.classWeights });
}

/** image [N, Cin, D, H, W]; labels [N, D, H, W] holding class indices. */
export function trainStep(model: VNet, optimizer: Optimizer, image: Tensor, labels: Tensor, options: StepOptions = {}): Tensor {
  return tidy(() => {
    optimizer.zeroGrad();
    const loss = batchLoss(model, image, labels, options);
    loss.backward();
    optimizer.step();
    return loss.detach();
  });
}
