// softmax and logSoftmax along any axis, like torch.nn.functional (V-Net's last layer: over the
// channels of NCDHW). kernels/softmax.wgsl; backward uses only the output, which it keeps.
import { record } from '../core/autograd.js';
import { empty, type Tensor } from '../core/tensor.js';
import { getContext, type Bindable } from '../device/context.js';
import { normalizeDim, runElementwise } from './util.js';
import { shapeSize } from '../core/shape.js';

/** x seen as [outer, length, inner] around axis `dim`: the params of kernels that walk one line each. */
export function lineParams(op: string, x: Tensor, dim: number): { lines: number; length: number; inner: number } {
  const d = normalizeDim(op, dim, x.rank);
  const length = x.shape[d]!;
  const inner = shapeSize(x.shape.slice(d + 1));
  return { lines: length === 0 ? 0 : x.size / length, length, inner };
}

/**
 * Runs `entry` over the lines of x: 4 neighbouring lines per invocation in vec4s (entry4, bindings
 * named with a 4) when inner is a multiple of 4, else one line per invocation.
 */
function runLines(
  op: string,
  entry: 'forward' | 'backward',
  x: Tensor,
  dim: number,
  bindings: Record<string, Bindable | null>,
  log: boolean,
): void {
  const params = lineParams(op, x, dim);
  const constants = { LOG: log ? 1 : 0 };
  if (params.inner % 4 === 0) {
    const ctx = getContext();
    const rows = params.lines / params.inner;
    const inner = params.inner / 4;
    ctx.dispatch({
      op,
      kernel: 'softmax',
      entry: `${entry}4`,
      bindings,
      params: { ...params, lines: rows, inner },
      constants,
      invocations: inner,
      planes: rows,
    });
    return;
  }
  runElementwise(op, 'softmax', entry, params.lines, bindings, params, constants);
}

/** softmax (or log-softmax) of x along `dim` without autograd: for ops that fuse its backward. */
export function softmaxForward(op: string, x: Tensor, dim: number, log = false): Tensor {
  const out = empty(x.shape);
  runLines(op, 'forward', x, dim, { x, out }, log);
  return out;
}

function softmaxOp(op: 'softmax' | 'logSoftmax', x: Tensor, dim: number): Tensor {
  const log = op === 'logSoftmax';
  const out = softmaxForward(op, x, dim, log);
  return record(op, [x], out, (g) => {
    const gx = empty(x.shape);
    runLines(op, 'backward', x, dim, { y: out, g, out: gx }, log);
    return [gx];
  });
}

/** exp(x) / Σ exp(x) along `dim` (default 1, the channels of NCDHW). */
export function softmax(x: Tensor, dim = 1): Tensor {
  return softmaxOp('softmax', x, dim);
}

/** log(softmax(x)) along `dim`, computed as x − max − log Σ exp(x − max) (no log of an underflowed 0). */
export function logSoftmax(x: Tensor, dim = 1): Tensor {
  return softmaxOp('logSoftmax', x, dim);
}
