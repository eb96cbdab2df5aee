// PReLU (He et al.), V-Net's activation: out = x for x > 0, alpha·x otherwise, with a learned slope
// per channel (dimension 1) or one shared slope, like torch.nn.functional.prelu. kernels/prelu.wgsl;
// the slope gradient is a split reduction (row-sums.ts).
import { record } from '../autograd.js';
import { empty, formatShape, type Tensor } from '../tensor.js';
import { rowSums } from './row-sums.js';
import { runElementwise } from './util.js';

/** x seen as [outer, channels, inner]; a shared slope is one channel of all elements. */
function layout(x: Tensor, alpha: Tensor): { channels: number; inner: number } {
  if (alpha.size === 1) return { channels: 1, inner: x.size };
  return { channels: x.shape[1]!, inner: x.shape.slice(2).reduce((a, b) => a * b, 1) };
}

function checkPrelu(x: Tensor, alpha: Tensor): void {
  if (alpha.rank !== 1) throw new Error(`prelu: alpha must have rank 1 ([C] or [1]), got shape ${formatShape(alpha.shape)}`);
  if (x.rank === 0) throw new Error(`prelu: x must have rank 1 or more, got shape ${formatShape(x.shape)}`);
  const channels = x.rank >= 2 ? x.shape[1]! : 1;
  if (alpha.size !== 1 && alpha.size !== channels) {
    throw new Error(`prelu: alpha has ${alpha.size} values but x ${formatShape(x.shape)} has ${channels} channel${channels === 1 ? '' : 's'} (dimension 1); expected ${channels === 1 ? '1' : `${channels} or 1`}`);
  }
}

export function prelu(x: Tensor, alpha: Tensor): Tensor {
  checkPrelu(x, alpha);
  const { channels, inner } = layout(x, alpha);
  const params = { n: x.size, channels, inner };
  const out = empty(x.shape);
  runElementwise('prelu', 'prelu', 'forward', x.size, { x, alpha, out }, params);
  return record('prelu', [x, alpha], out, (g) => {
    let gx: Tensor | null = null;
    if (x.requiresGrad) {
      gx = empty(x.shape);
      runElementwise('prelu', 'prelu', 'backwardInput', x.size, { x, alpha, g, out: gx }, params);
    }
    let gAlpha: Tensor | null = null;
    if (alpha.requiresGrad) {
      const rowLength = x.size / channels;
      const totals = rowSums('prelu', 'prelu', 'backwardAlpha', { x, g }, { channels, inner }, { rows: channels, rowLength, stats: 1 });
      gAlpha = totals.viewAs(alpha.shape);
      totals.dispose();
    }
    return [gx, gAlpha];
  });
}
