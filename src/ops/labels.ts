// Class-label targets shared by diceLoss and crossEntropy: their shape checks, and checkLabels, the
// explicit check of the label values. The losses never read labels back to the CPU (that would stall
// every training step); their kernels read any label that is not an integer in [0, C) as class 0,
// the background, so bad data cannot index out of bounds. checkLabels finds such labels on the GPU
// and reads back one number: for data loaders and users, outside the training step.
import { formatShape, type Tensor } from '../core/tensor.js';
import { rowSums } from './row-sums.js';

/**
 * Checks `target` against `input` [N, C, ...spatial]: class labels [N, ...spatial], or (where
 * `allowOneHot`) per-class values of input's own shape. Returns whether the target is one-hot.
 */
export function checkTarget(op: string, inputName: string, input: Tensor, target: Tensor, allowOneHot: boolean): boolean {
  if (input.rank < 2)
    throw new Error(`${op}: ${inputName} must have rank 2 or more (N, C, ...spatial), got shape ${formatShape(input.shape)}`);
  const labelShape = input.shape.filter((_, i) => i !== 1);
  const sameAs = (shape: readonly number[]) => target.rank === shape.length && target.shape.every((d, i) => d === shape[i]);
  if (sameAs(labelShape)) return false;
  if (allowOneHot && sameAs(input.shape)) return true;
  const oneHot = allowOneHot ? ` or one-hot ${formatShape(input.shape)}` : '';
  throw new Error(
    `${op}: target ${formatShape(target.shape)} does not fit ${inputName} ${formatShape(input.shape)}: expected class labels ` +
      `${formatShape(labelShape)}${oneHot}`,
  );
}

/**
 * Resolves when every value of `target` is an integer class index in [0, numClasses); otherwise
 * rejects with how many are not. Reads one number back from the GPU.
 */
export async function checkLabels(target: Tensor, numClasses: number): Promise<void> {
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new Error(`checkLabels: numClasses must be a positive integer, got ${numClasses}`);
  const counts = rowSums(
    'checkLabels',
    'labels',
    'countInvalid',
    { labels: target },
    { classes: numClasses },
    { rows: 1, rowLength: target.size, stats: 1 },
  );
  const invalid = (await counts.toArray())[0]!;
  counts.dispose();
  if (invalid > 0) {
    throw new Error(
      `checkLabels: ${invalid} of ${target.size} labels in target ${formatShape(target.shape)} are not integers in [0, ${numClasses})`,
    );
  }
}
