// ONNX's arithmetic, shape and constant ops. Values known on the host (constants, shapes) are
// folded there; the rest run on the GPU through voxgpu's ops, with autograd.
import { argmax } from '../../ops/argmax.js';
import { add, div, mul, sub } from '../../ops/binary.js';
import { concat } from '../../ops/concat.js';
import { expand } from '../../ops/expand.js';
import { permute } from '../../ops/permute.js';
import { broadcastShapes } from '../../ops/raw.js';
import { reshape } from '../../ops/reshape.js';
import { formatShape, type Tensor } from '../../core/tensor.js';
import { hostArray, hostBinary, hostConcat, hostGather } from './host.js';
import { isHost, type NodeContext, type OnnxOp, onnxOp, type Value } from './node-context.js';
import { type HostArray, tensorValues } from './proto.js';

function binary(gpu: (a: Tensor, b: Tensor | number) => Tensor, host: (a: number, b: number) => number): OnnxOp {
  return onnxOp([], (c) => {
    const [a, b] = [c.value(0), c.value(1)];
    if (isHost(a) && isHost(b)) return hostBinary(c.node.opType, a, b, host);
    // A one-value constant on the right is a scalar operand (no upload, no broadcast pass).
    if (isHost(b) && b.data.length === 1 && b.shape.length <= (a.shape.length || 1)) return gpu(c.tensor(0), b.data[0]!);
    return gpu(c.tensor(0), c.tensor(1));
  });
}

/** A new shape for a GPU tensor (a view) or a host constant. */
function reshapeValue(v: Value, shape: number[]): Value {
  return isHost(v) ? { ...v, shape } : reshape(v, shape);
}

/** ONNX Reshape: 0 copies the input's dimension (unless allowzero), -1 is inferred. */
const reshapeOp = onnxOp(['allowzero'], (c) => {
  const x = c.value(0);
  const allowZero = c.attrs.int('allowzero', 0) === 1;
  const target = c.ints(1, 'shape').map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d));
  const known = target.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
  const size = x.shape.reduce((a, d) => a * d, 1);
  const shape = target.map((d) => (d === -1 ? size / known : d));
  if (shape.reduce((a, d) => a * d, 1) !== size || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw c.fail(`cannot reshape ${formatShape(x.shape)} to [${target.join(', ')}]`);
  }
  return reshapeValue(x, shape);
});

const flatten = onnxOp(['axis'], (c) => {
  const x = c.value(0);
  const axis = c.attrs.int('axis', 1);
  const at = axis < 0 ? axis + x.shape.length : axis;
  const prod = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);
  return reshapeValue(x, [prod(x.shape.slice(0, at)), prod(x.shape.slice(at))]);
});

/** Squeeze/Unsqueeze axes: an attribute before opset 13, an input from 13. */
function axesOf(c: NodeContext): number[] | null {
  if (c.opset < 13) return c.attrs.has('axes') ? c.attrs.ints('axes') : null;
  return c.has(1) ? c.ints(1, 'axes') : null;
}

const squeeze = onnxOp(['axes'], (c) => {
  const x = c.value(0);
  const rank = x.shape.length;
  const axes = (axesOf(c) ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => c.axis(a, rank));
  if (axes.some((a) => x.shape[a] !== 1)) throw c.fail(`cannot squeeze axes [${axes.join(', ')}] of ${formatShape(x.shape)} (not all 1)`);
  return reshapeValue(
    x,
    x.shape.filter((_, i) => !axes.includes(i)),
  );
});

const unsqueeze = onnxOp(['axes'], (c) => {
  const x = c.value(0);
  const axes = axesOf(c);
  if (!axes) throw c.fail('axes are required');
  const rank = x.shape.length + axes.length;
  const at = new Set(axes.map((a) => c.axis(a, rank)));
  const rest = [...x.shape];
  return reshapeValue(
    x,
    Array.from({ length: rank }, (_, i) => (at.has(i) ? 1 : rest.shift()!)),
  );
});

/** ONNX Expand broadcasts both ways: the result has the larger of each dimension. */
const expandOp = onnxOp([], (c) => {
  const x = c.tensor(0);
  return expand(x, broadcastShapes(`ONNX node '${c.node.name}' (Expand)`, x.shape, c.ints(1, 'shape')));
});

/** Tile as concatenations of copies, one axis at a time (autograd sums the copies' gradients). */
const tile = onnxOp([], (c) => {
  let x = c.tensor(0);
  const repeats = c.ints(1, 'repeats');
  if (repeats.length !== x.rank)
    throw c.fail(`repeats [${repeats.join(', ')}] must have one value per dimension of ${formatShape(x.shape)}`);
  repeats.forEach((r, axis) => {
    if (r !== 1) x = concat(new Array<Tensor>(r).fill(x), axis);
  });
  return x;
});

const concatOp = onnxOp(['axis'], (c) => {
  const values = c.inputs.filter((v): v is Value => v !== undefined);
  const axis = c.axis(c.attrs.int('axis'), values[0]!.shape.length);
  if (values.every(isHost)) return hostConcat(values as HostArray[], axis);
  return concat(
    values.map((_, i) => c.tensor(i)),
    axis,
  );
});

const constant = onnxOp(['value', 'value_float', 'value_floats', 'value_int', 'value_ints'], (c) => {
  const a = c.attrs;
  if (a.has('value')) return tensorValues(a.tensor('value'));
  if (a.has('value_float')) return hostArray([], [a.float('value_float')], false);
  if (a.has('value_int')) return hostArray([], [a.int('value_int')], true);
  if (a.has('value_ints')) return hostArray([a.ints('value_ints').length], a.ints('value_ints'), true);
  throw c.fail('only tensor, float and int values are supported');
});

/** Shape of a GPU tensor is known when the node runs: shapes are static per call. */
const shapeOp = onnxOp(['start', 'end'], (c) => {
  const shape = c.value(0).shape;
  const rank = shape.length;
  const clamp = (v: number) => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  const dims = shape.slice(clamp(c.attrs.int('start', 0)), clamp(c.attrs.int('end', rank)));
  return hostArray([dims.length], dims, true);
});

const gather = onnxOp(['axis'], (c) => {
  const data = c.host(0, 'data');
  return hostGather(data, c.host(1, 'indices'), c.axis(c.attrs.int('axis', 0), data.shape.length));
});

const constantOfShape = onnxOp(['value'], (c) => {
  const shape = c.ints(0, 'shape');
  const fill = c.attrs.has('value') ? tensorValues(c.attrs.tensor('value')) : hostArray([1], [0], false);
  return hostArray(shape, new Array<number>(shape.reduce((a, d) => a * d, 1)).fill(fill.data[0]!), fill.integer);
});

/** Where(condition, a, b) on host constants: each element from a where the condition holds, else from b. */
const where = onnxOp([], (c) => {
  const [cond, a, b] = [c.host(0, 'condition'), c.host(1, 'X'), c.host(2, 'Y')];
  const index = (h: HostArray) =>
    hostArray(
      h.shape,
      h.data.map((_, i) => i),
      true,
    );
  // Broadcast the three by broadcasting element indices, then pick.
  const fromA = hostBinary('Where', cond, index(a), (k, i) => (k ? i : -1));
  const picks = hostBinary('Where', fromA, index(b), (i, j) => (i >= 0 ? i : -2 - j));
  return hostArray(
    picks.shape,
    Array.from(picks.data, (p) => (p >= 0 ? a.data[p]! : b.data[-2 - p]!)),
    a.integer && b.integer,
  );
});

const FLOAT_TYPES = new Set([1, 10, 11, 16]);

const cast = onnxOp(['to', 'saturate'], (c) => {
  const x = c.value(0);
  const toFloat = FLOAT_TYPES.has(c.attrs.int('to'));
  if (isHost(x)) return hostArray(x.shape, toFloat ? x.data : Array.from(x.data, Math.trunc), !toFloat);
  if (!toFloat) throw c.fail('casting a computed tensor to an integer type is not supported');
  return x;
});

/** Transpose: perm reorders the dimensions (default: reversed). */
const transpose = onnxOp(['perm'], (c) => {
  const x = c.tensor(0);
  return permute(x, c.attrs.ints('perm', [...x.shape.keys()].reverse()));
});

const argmaxOp = onnxOp(['axis', 'keepdims', 'select_last_index'], (c) => {
  if (c.attrs.int('select_last_index', 0) !== 0) throw c.fail('select_last_index=1 is not supported');
  const x = c.tensor(0);
  return argmax(x, c.axis(c.attrs.int('axis', 0), x.rank), c.attrs.int('keepdims', 1) === 1);
});

export const tensorOps: Record<string, OnnxOp> = {
  Add: binary(add, (a, b) => a + b),
  Sub: binary(sub, (a, b) => a - b),
  Mul: binary(mul, (a, b) => a * b),
  Div: binary(div, (a, b) => a / b),
  Equal: onnxOp([], (c) => hostBinary('Equal', c.host(0, 'A'), c.host(1, 'B'), (a, b) => Number(a === b))),
  ConstantOfShape: constantOfShape,
  Where: where,
  Identity: onnxOp([], (c) => c.value(0)),
  Constant: constant,
  Reshape: reshapeOp,
  Flatten: flatten,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Expand: expandOp,
  Tile: tile,
  Transpose: transpose,
  Concat: concatOp,
  Shape: shapeOp,
  Gather: gather,
  Cast: cast,
  ArgMax: argmaxOp,
};
