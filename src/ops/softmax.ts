// softmax and logSoftmax along any axis, like torch.nn.functional (V-Net's last layer: over the
// channels of NCDHW). kernels/softmax.wgsl; backward uses only the output, which it keeps.
import { record } from '../autograd.js';
import { empty, type Tensor } from '../tensor.js';
import { normalizeDim, runElementwise } from './util.js';

/** x seen as [outer, length, inner] around axis `dim`: the params of kernels that walk one line each. */
export function lineParams(op: string, x: Tensor, dim: number): { lines: number; length: number; inner: number } {
  const d = normalizeDim(op, dim, x.rank);
  const length = x.shape[d]!;
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  return { lines: length === 0 ? 0 : x.size / length, length, inner };
}

/** softmax (or log-softmax) of x along `dim` without autograd: for ops that fuse its backward. */
export function softmaxForward(op: string, x: Tensor, dim: number, log = false): Tensor {
  const params = lineParams(op, x, dim);
  const out = empty(x.shape);
  runElementwise(op, 'softmax', 'forward', params.lines, { x, out }, params, { LOG: log ? 1 : 0 });
  return out;
}

function softmaxOp(op: 'softmax' | 'logSoftmax', x: Tensor, dim: number): Tensor {
  const params = lineParams(op, x, dim);
  const constants = { LOG: op === 'logSoftmax' ? 1 : 0 };
  const out = softmaxForward(op, x, dim, op === 'logSoftmax');
  return record(op, [x], out, (g) => {
    const gx = empty(x.shape);
    runElementwise(op, 'softmax', 'backward', params.lines, { y: out, g, out: gx }, params, constants);
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
