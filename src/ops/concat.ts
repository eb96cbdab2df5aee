// concat along any axis (V-Net's skip connections join channels) and narrow, its inverse, which
// is also concat's backward. kernels/slab.wgsl.
import { record } from '../core/autograd.js';
import { empty, formatShape, type Tensor } from '../core/tensor.js';
import { getContext } from '../device/context.js';
import { normalizeDim, runElementwise } from './util.js';
import { shapeSize } from '../core/shape.js';

/** Rows shorter than this many vec4s would leave most of a workgroup idle: the flat copy is better. */
const minVec4Row = 64;

function inner(t: { shape: readonly number[] }, dim: number): number {
  return shapeSize(t.shape.slice(dim + 1));
}

function copySlab(
  op: string,
  entry: 'insert' | 'extract',
  src: Tensor,
  dst: Tensor,
  small: Tensor,
  big: Tensor,
  dim: number,
  start: number,
): void {
  const rowInner = inner(small, dim);
  const length = small.shape[dim]! * rowInner;
  const bigStride = big.shape[dim]! * rowInner;
  const offset = start * rowInner;
  if (length % 4 === 0 && bigStride % 4 === 0 && offset % 4 === 0 && length / 4 >= minVec4Row) {
    const ctx = getContext();
    const rows = length === 0 ? 0 : small.size / length;
    const params = { n: rows, length: length / 4, bigStride: bigStride / 4, offset: offset / 4 };
    ctx.dispatch({
      op,
      kernel: 'slab',
      entry: `${entry}4`,
      bindings: { src4: src, dst4: dst },
      params,
      invocations: length / 4,
      planes: rows,
    });
    return;
  }
  runElementwise(op, 'slab', entry, small.size, { src, dst }, { n: small.size, length, bigStride, offset });
}

/** The slice [start, start + length) of x along `dim`, without autograd. */
function narrowRaw(op: string, x: Tensor, dim: number, start: number, length: number): Tensor {
  const out = empty(x.shape.map((d, i) => (i === dim ? length : d)));
  copySlab(op, 'extract', x, out, out, x, dim, start);
  return out;
}

export function concat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('concat: expected at least one tensor, got none');
  const first = tensors[0]!;
  const d = normalizeDim('concat', dim, first.rank);
  for (const [i, t] of tensors.entries()) {
    if (t.rank !== first.rank || t.shape.some((s, k) => k !== d && s !== first.shape[k])) {
      throw new Error(
        `concat: tensor ${i} has shape ${formatShape(t.shape)}, incompatible with ${formatShape(first.shape)} along dimension ` +
          `${d} (all other dimensions must match)`,
      );
    }
  }
  const total = tensors.reduce((a, t) => a + t.shape[d]!, 0);
  const out = empty(first.shape.map((s, k) => (k === d ? total : s)));
  const starts: number[] = [];
  let start = 0;
  for (const t of tensors) {
    starts.push(start);
    copySlab('concat', 'insert', t, out, t, out, d, start);
    start += t.shape[d]!;
  }
  return record('concat', tensors, out, (g) =>
    tensors.map((t, i) => (t.requiresGrad ? narrowRaw('concat', g, d, starts[i]!, t.shape[d]!) : null)),
  );
}

/** The slice [start, start + length) of x along `dim`, like torch.narrow (a copy here). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normalizeDim('narrow', dim, x.rank);
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > x.shape[d]!) {
    throw new Error(
      `narrow: slice [${start}, ${start + length}) is outside dimension ${d} of size ${x.shape[d]} (shape ${formatShape(x.shape)})`,
    );
  }
  const out = narrowRaw('narrow', x, d, start, length);
  return record('narrow', [x], out, (g) => {
    const gx = empty(x.shape);
    runElementwise('narrow', 'map', 'fill', gx.size, { out: gx }, { n: gx.size, s: 0 });
    copySlab('narrow', 'insert', g, gx, g, gx, d, start);
    return [gx];
  });
}
