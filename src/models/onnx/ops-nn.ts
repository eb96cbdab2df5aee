// ONNX's network ops on voxgpu's ops: convolutions, normalisations, activations, softmax, dropout.
import { elu, erf, leakyRelu, sigmoid } from '../../ops/activations.js';
import { greater, mul } from '../../ops/binary.js';
import { conv3d } from '../../ops/conv/conv3d.js';
import { convTranspose3d } from '../../ops/conv/conv-transpose3d.js';
import type { Triple } from '../../ops/conv/shape.js';
import { concat, narrow } from '../../ops/concat.js';
import { full, rand } from '../../ops/creation.js';
import { expand } from '../../ops/expand.js';
import { abs, exp, log, neg, relu, sqrt } from '../../ops/map.js';
import { maxPool3d } from '../../ops/max-pool3d.js';
import { batchNorm, groupNorm, instanceNorm } from '../../ops/norm.js';
import { prelu } from '../../ops/prelu.js';
import { reshape } from '../../ops/reshape.js';
import { logSoftmax, softmax } from '../../ops/softmax.js';
import { formatShape, type Tensor, tensor } from '../../core/tensor.js';
import { type NodeContext, type OnnxOp, onnxOp } from './node-context.js';
import { resize } from './ops-resize.js';

/** A 3-value attribute (required without a fallback). */
function triple(c: NodeContext, name: string, fallback?: number): Triple {
  const v = c.attrs.ints(name, fallback === undefined ? undefined : [fallback, fallback, fallback]);
  if (v.length !== 3) throw c.fail(`attribute '${name}' must have 3 values (3D), got [${v.join(', ')}]`);
  return [v[0]!, v[1]!, v[2]!];
}

/** Padding per spatial axis, from `pads` or `auto_pad`: before and after may differ. */
interface Pads {
  begin: number[];
  end: number[];
}

function convPads(c: NodeContext, x: Tensor, kernel: readonly number[], stride: Triple, dilation: Triple, transposed: boolean): Pads {
  const autoPad = c.attrs.string('auto_pad', 'NOTSET');
  let begin: number[];
  let end: number[];
  if (autoPad === 'NOTSET') {
    const pads = c.attrs.ints('pads', [0, 0, 0, 0, 0, 0]);
    if (pads.length !== 6) throw c.fail(`attribute 'pads' must have 6 values (3D), got [${pads.join(', ')}]`);
    [begin, end] = [pads.slice(0, 3), pads.slice(3)];
  } else if (autoPad === 'VALID') {
    [begin, end] = [
      [0, 0, 0],
      [0, 0, 0],
    ];
  } else if ((autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') && !transposed) {
    const total = [0, 1, 2].map((i) => {
      const size = x.shape[2 + i]!;
      return Math.max(0, (Math.ceil(size / stride[i]!) - 1) * stride[i]! + (kernel[i]! - 1) * dilation[i]! + 1 - size);
    });
    const small = total.map((t) => Math.floor(t / 2));
    const large = total.map((t, i) => t - small[i]!);
    [begin, end] = autoPad === 'SAME_UPPER' ? [small, large] : [large, small];
  } else {
    throw c.fail(`auto_pad '${autoPad}' is not supported`);
  }
  return { begin, end };
}

/** The padding both sides share (what voxgpu's convolutions take), at most `limit`; the rest is `extra`. */
function sharedPadding(p: Pads, limit: readonly number[] = [Infinity, Infinity, Infinity]): { padding: Triple; extra: Pads } {
  const shared = p.begin.map((b, i) => Math.min(b, p.end[i]!, limit[i]!));
  return {
    padding: [shared[0]!, shared[1]!, shared[2]!],
    extra: { begin: p.begin.map((b, i) => b - shared[i]!), end: p.end.map((e, i) => e - shared[i]!) },
  };
}

/** x with planes of `value` added before and after along each spatial axis (autograd through concat). */
function padPlanes(x: Tensor, extra: Pads, value = 0): Tensor {
  let h = x;
  extra.begin.forEach((before, i) => {
    const after = extra.end[i]!;
    if (!before && !after) return;
    const plane = (n: number) =>
      full(
        h.shape.map((d, k) => (k === 2 + i ? n : d)),
        value,
      );
    h = concat([...(before ? [plane(before)] : []), h, ...(after ? [plane(after)] : [])], 2 + i);
  });
  return h;
}

/** y without `extra` planes at the start and end of each spatial axis. */
function crop(y: Tensor, extra: Pads): Tensor {
  let h = y;
  extra.begin.forEach((before, i) => {
    const after = extra.end[i]!;
    if (before || after) h = narrow(h, 2 + i, before, h.shape[2 + i]! - before - after);
  });
  return h;
}

function convGeometry(c: NodeContext, x: Tensor, w: Tensor, transposed: boolean) {
  if (w.rank !== 5) throw c.fail(`weight must be 5-D (3D kernels), got ${formatShape(w.shape)}`);
  const kernel = w.shape.slice(2);
  if (c.attrs.has('kernel_shape') && c.attrs.ints('kernel_shape').some((k, i) => k !== kernel[i])) {
    throw c.fail(`kernel_shape [${c.attrs.ints('kernel_shape').join(', ')}] disagrees with the weight ${formatShape(w.shape)}`);
  }
  const stride = triple(c, 'strides', 1);
  const dilation = triple(c, 'dilations', 1);
  return { stride, dilation, ...sharedPadding(convPads(c, x, kernel, stride, dilation, transposed)) };
}

/**
 * A grouped convolution as `group` convolutions on slices of the channels, concatenated: group i
 * takes input channels, weight rows and output channels of its own slice (autograd through narrow
 * and concat). One group is the plain op.
 */
function grouped(
  c: NodeContext,
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  transposed: boolean,
  run: (x: Tensor, w: Tensor, b: Tensor | null) => Tensor,
): Tensor {
  const groups = c.attrs.int('group', 1);
  if (groups === 1) return run(x, w, bias);
  const inChannels = x.shape[1]!;
  const outChannels = transposed ? w.shape[1]! * groups : w.shape[0]!;
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups || outChannels % groups) {
    throw c.fail(`group ${groups} must divide the ${inChannels} input and ${outChannels} output channels`);
  }
  const [inPer, outPer] = [inChannels / groups, outChannels / groups];
  const parts = Array.from({ length: groups }, (_, i) =>
    run(
      narrow(x, 1, i * inPer, inPer),
      transposed ? narrow(w, 0, i * inPer, inPer) : narrow(w, 0, i * outPer, outPer),
      bias && narrow(bias, 0, i * outPer, outPer),
    ),
  );
  return concat(parts, 1);
}

const conv = onnxOp(['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'], (c) => {
  const [x, w] = [c.volume(0), c.tensor(1)];
  const { extra, ...geometry } = convGeometry(c, x, w, false);
  // Asymmetric padding (TensorFlow's SAME with even sizes): the extra side padded with zeros first.
  return grouped(c, padPlanes(x, extra), w, c.optionalTensor(2), false, (xi, wi, bi) => conv3d(xi, wi, bi, geometry));
});

const convTranspose = onnxOp(['auto_pad', 'dilations', 'group', 'kernel_shape', 'output_padding', 'pads', 'strides'], (c) => {
  const [x, w] = [c.volume(0), c.tensor(1)];
  const { extra, ...geometry } = convGeometry(c, x, w, true);
  // A transposed convolution's padding removes output planes: the asymmetric rest is cropped after.
  const outputPadding = triple(c, 'output_padding', 0);
  return crop(
    grouped(c, x, w, c.optionalTensor(2), true, (xi, wi, bi) => convTranspose3d(xi, wi, bi, { ...geometry, outputPadding })),
    extra,
  );
});

const batchNormalization = onnxOp(['epsilon', 'momentum', 'training_mode', 'spatial'], (c) => {
  if (c.node.output.slice(1).some(Boolean))
    throw c.fail('the running-statistics outputs (a graph exported in training mode) are not supported; export in eval mode');
  if (c.attrs.int('spatial', 1) !== 1) throw c.fail('spatial=0 is not supported');
  // ONNX's momentum weighs the running value (PyTorch's momentum = 1 − ONNX's).
  return batchNorm(c.tensor(0), {
    weight: c.tensor(1),
    bias: c.tensor(2),
    runningMean: c.tensor(3),
    runningVar: c.tensor(4),
    eps: c.attrs.float('epsilon', 1e-5),
    momentum: 1 - c.attrs.float('momentum', 0.9),
    training: c.training,
  });
});

const instanceNormalization = onnxOp(['epsilon'], (c) => {
  return instanceNorm(c.tensor(0), { weight: c.tensor(1), bias: c.tensor(2), eps: c.attrs.float('epsilon', 1e-5) });
});

/** Opset 18's GroupNormalization: scale and bias per group, spread here to the group's channels. */
const groupNormalization = onnxOp(['epsilon', 'num_groups', 'stash_type'], (c) => {
  const x = c.tensor(0);
  const groups = c.attrs.int('num_groups');
  const perChannel = (t: Tensor) => reshape(expand(reshape(t, [groups, 1]), [groups, x.shape[1]! / groups]), [x.shape[1]!]);
  return groupNorm(x, groups, { weight: perChannel(c.tensor(1)), bias: perChannel(c.tensor(2)), eps: c.attrs.float('epsilon', 1e-5) });
});

/** PRelu's slope broadcasts: one value, or one per channel ([C] or PyTorch's [C, 1, 1, 1]). */
const preluOp = onnxOp([], (c) => {
  const [x, slope] = [c.tensor(0), c.tensor(1)];
  const channels = x.shape[1] ?? 1;
  const perChannel =
    slope.size === channels &&
    slope.rank <= x.rank - 1 &&
    slope.shape.slice(1).every((d) => d === 1) &&
    (slope.rank === 1 || slope.shape[0] === channels);
  if (slope.size !== 1 && !perChannel)
    throw c.fail(`slope ${formatShape(slope.shape)} must be one value or one per channel of x ${formatShape(x.shape)}`);
  return prelu(x, slope.rank === 1 ? slope : reshape(slope, [slope.size]));
});

function unary(f: (x: Tensor) => Tensor): OnnxOp {
  return onnxOp([], (c) => f(c.tensor(0)));
}

/** Softmax and LogSoftmax; before opset 13 they act on the input flattened to 2-D at `axis`. */
function softmaxLike(f: (x: Tensor, dim: number) => Tensor): OnnxOp {
  return onnxOp(['axis'], (c) => {
    const x = c.tensor(0);
    const axis = c.axis(c.attrs.int('axis', c.opset < 13 ? 1 : -1), x.rank);
    if (c.opset >= 13 || axis === x.rank - 1) return f(x, axis);
    const outer = x.shape.slice(0, axis).reduce((a, d) => a * d, 1);
    return reshape(f(reshape(x, [outer, x.size / outer]), 1), x.shape);
  });
}

/** Identity at inference; in training, elements are zeroed with probability `ratio` and the rest scaled by 1/(1 − ratio). */
const dropout = onnxOp(['ratio', 'seed'], (c) => {
  if (c.node.output[1]) throw c.fail('the mask output is not supported');
  const x = c.tensor(0);
  const ratio = c.opset < 12 ? c.attrs.float('ratio', 0.5) : c.has(1) ? c.host(1, 'ratio').data[0]! : 0.5;
  const training = c.opset >= 12 && c.has(2) ? c.host(2, 'training_mode').data[0] !== 0 : c.training;
  if (!training || ratio === 0) return x;
  const keepMask = greater(rand(x.shape), full(x.shape, ratio));
  return mul(mul(x, keepMask), 1 / (1 - ratio));
});

/**
 * A pooling node's windows along each spatial axis: output lengths, the pads from `pads` or
 * `auto_pad`, and `reach`, those pads with the end one extended over ceil_mode's last windows. ONNX's
 * ceil_mode rule: the last window starts inside x or its begin pad.
 */
function poolWindows(c: NodeContext, x: Tensor, kernel: Triple, stride: Triple): { out: number[]; pads: Pads; reach: Pads } {
  const pads = convPads(c, x, kernel, stride, [1, 1, 1], false);
  const ceilMode = c.attrs.int('ceil_mode', 0) !== 0 && c.attrs.string('auto_pad', 'NOTSET') === 'NOTSET';
  const out = [0, 1, 2].map((a) => {
    const [size, k, s, begin] = [x.shape[2 + a]!, kernel[a]!, stride[a]!, pads.begin[a]!];
    const span = size + begin + pads.end[a]! - k;
    if (span < 0)
      throw c.fail(
        `kernel_shape [${kernel.join(', ')}] is larger than x ${formatShape(x.shape)} with pads [${[...pads.begin, ...pads.end].join(', ')}]`,
      );
    const length = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    return ceilMode && (length - 1) * s >= size + begin ? length - 1 : length;
  });
  const end = out.map((o, a) => Math.max(pads.end[a]!, (o - 1) * stride[a]! + kernel[a]! - x.shape[2 + a]! - pads.begin[a]!));
  return { out, pads, reach: { begin: pads.begin, end } };
}

/**
 * AveragePool: window sums as a convolution with a kernel of ones (channels moved into the batch;
 * zeros for the padding and ceil_mode's last windows), each divided by its window's count, a product
 * of per-axis counts made on the host: the taps inside x, or with count_include_pad the taps inside x
 * and its pads.
 */
const averagePool = onnxOp(['kernel_shape', 'strides', 'pads', 'auto_pad', 'ceil_mode', 'count_include_pad'], (c) => {
  const x = c.volume(0);
  const kernel = triple(c, 'kernel_shape');
  const stride = triple(c, 'strides', 1);
  const { out, pads, reach } = poolWindows(c, x, kernel, stride);
  const includePad = c.attrs.int('count_include_pad', 0) !== 0;
  const [countD, countH, countW] = out.map((length, a) => {
    const [size, k] = [x.shape[2 + a]!, kernel[a]!];
    const starts = Array.from({ length }, (_, o) => o * stride[a]! - pads.begin[a]!);
    return starts.map((t) => (includePad ? Math.min(t + k, size + pads.end[a]!) - t : Math.min(t + k, size) - Math.max(t, 0)));
  }) as [number[], number[], number[]];
  const { padding, extra } = sharedPadding(reach);
  const [n, ch, ...size] = x.shape as [number, number, number, number, number];
  const ones = tensor(new Float32Array(kernel[0]! * kernel[1]! * kernel[2]!).fill(1), [1, 1, ...kernel]);
  const sums = conv3d(padPlanes(reshape(x, [n * ch, 1, ...size]), extra), ones, null, { stride, padding });
  const reciprocal = countD.flatMap((a) => countH.flatMap((b) => countW.map((e) => 1 / (a * b * e))));
  return reshape(mul(sums, tensor(reciprocal, [1, 1, ...out])), [n, ch, ...out]);
});

/**
 * MaxPool on maxPool3d: the padding both sides share is its implicit −∞; asymmetric pads and
 * ceil_mode's last windows are planes of −∞ added first (never a window's maximum, so no gradient).
 */
const maxPool = onnxOp(['kernel_shape', 'strides', 'pads', 'auto_pad', 'ceil_mode', 'dilations', 'storage_order'], (c) => {
  if (c.node.output[1]) throw c.fail('the Indices output is not supported');
  if (c.attrs.ints('dilations', [1, 1, 1]).some((d) => d !== 1)) throw c.fail('dilated pooling is not supported');
  const x = c.volume(0);
  const kernel = triple(c, 'kernel_shape');
  const stride = triple(c, 'strides', 1);
  // maxPool3d pads by at most half the kernel.
  const half = kernel.map((k) => Math.floor(k / 2));
  const { padding, extra } = sharedPadding(poolWindows(c, x, kernel, stride).reach, half);
  return maxPool3d(padPlanes(x, extra, Number.NEGATIVE_INFINITY), kernel, { stride, padding });
});

export const nnOps: Record<string, OnnxOp> = {
  MaxPool: maxPool,
  Resize: resize,
  AveragePool: averagePool,
  Conv: conv,
  ConvTranspose: convTranspose,
  BatchNormalization: batchNormalization,
  InstanceNormalization: instanceNormalization,
  GroupNormalization: groupNormalization,
  PRelu: preluOp,
  Relu: unary(relu),
  Sigmoid: unary(sigmoid),
  Erf: unary(erf),
  Exp: unary(exp),
  Log: unary(log),
  Sqrt: unary(sqrt),
  Abs: unary(abs),
  Neg: unary(neg),
  LeakyRelu: onnxOp(['alpha'], (c) => leakyRelu(c.tensor(0), c.attrs.float('alpha', 0.01))),
  Elu: onnxOp(['alpha'], (c) => elu(c.tensor(0), c.attrs.float('alpha', 1))),
  Softmax: softmaxLike(softmax),
  LogSoftmax: softmaxLike(logSoftmax),
  Dropout: dropout,
};
