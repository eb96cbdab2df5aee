// resample3d: x [N, C, D, H, W] resampled separably along D, H and W, each output index reading two
// source indices with a weight (nearest neighbour: weight 0) from tables made on the host, so every
// coordinate rule is one kernel: PyTorch's interpolate() below and ONNX's Resize (src/models/onnx).
// The backward gathers per input voxel over the outputs that read it (no atomics). Kernel:
// resample.wgsl.
import { record } from '../core/autograd.js';
import { empty, formatShape, type Tensor, tensor } from '../core/tensor.js';
import { type Size3, type Triple, triple } from './conv/shape.js';
import { checkRank, runElementwise } from './util.js';

/** One axis of a resampling: per output index, the two source indices and the weight of `upper`. */
export interface AxisTaps {
  inSize: number;
  lower: number[];
  upper: number[];
  weight: number[];
}

/** Linear interpolation at source coordinates (clamped into the axis, edges repeated). */
export function linearTaps(source: readonly number[], inSize: number): AxisTaps {
  const clamped = source.map((s) => Math.min(Math.max(s, 0), inSize - 1));
  const lower = clamped.map(Math.floor);
  return {
    inSize,
    lower,
    upper: lower.map((i) => Math.min(i + 1, inSize - 1)),
    weight: clamped.map((s, o) => s - lower[o]!),
  };
}

/** Nearest neighbour: the given source indices, clamped into the axis. */
export function nearestTaps(index: readonly number[], inSize: number): AxisTaps {
  const lower = index.map((i) => Math.min(Math.max(i, 0), inSize - 1));
  return { inSize, lower, upper: lower, weight: lower.map(() => 0) };
}

/** Per input index, the output indices [first, end) that read it (0, 0 where none does). */
function reachOf(t: AxisTaps): number[] {
  const first = new Array<number>(t.inSize).fill(Number.POSITIVE_INFINITY);
  const end = new Array<number>(t.inSize).fill(0);
  t.lower.forEach((lower, o) => {
    for (const i of t.weight[o]! > 0 ? [lower, t.upper[o]!] : [lower]) {
      first[i] = Math.min(first[i]!, o);
      end[i] = Math.max(end[i]!, o + 1);
    }
  });
  return first.flatMap((f, i) => (end[i] ? [f, end[i]!] : [0, 0]));
}

export function resample3d(x: Tensor, taps: readonly [AxisTaps, AxisTaps, AxisTaps]): Tensor {
  checkRank('resample3d', 'x', x, 5, 'N, C, D, H, W');
  const inSize = x.shape.slice(2);
  if (taps.some((t, a) => t.inSize !== inSize[a]))
    throw new Error(`resample3d: the tables resample [${taps.map((t) => t.inSize).join(', ')}], x is ${formatShape(x.shape)}`);
  const outSize = taps.map((t) => t.lower.length);
  const starts = (lengths: number[], per: number) => lengths.map((_, a) => per * lengths.slice(0, a).reduce((s, l) => s + l, 0));
  const params = {
    inSize: [...inSize, 0],
    outSize: [...outSize, 0],
    tapsAt: [...starts(outSize, 3), 0],
    reachAt: [...starts(inSize, 2), 0],
  };
  const table = tensor(taps.flatMap((t) => t.lower.flatMap((lower, o) => [lower, t.upper[o]!, t.weight[o]!])));
  const out = empty([x.shape[0]!, x.shape[1]!, ...outSize]);
  runElementwise('resample3d', 'resample', 'forward', out.size, { x, taps: table, out }, { n: out.size, ...params });
  return record(
    'resample3d',
    [x],
    out,
    (g) => {
      const gx = empty(x.shape);
      const reach = tensor(taps.flatMap(reachOf));
      runElementwise('resample3d', 'resample', 'backward', gx.size, { g, taps: table, reach, out: gx }, { n: gx.size, ...params });
      return [gx];
    },
    [table],
  );
}

export interface InterpolateOptions {
  /** Output D, H, W; or give scaleFactor. */
  size?: Size3;
  /** Output = ⌊input · scaleFactor⌋ per axis; the coordinates use 1/scaleFactor, as PyTorch's do. */
  scaleFactor?: number | readonly [number, number, number];
  /** 'nearest' (PyTorch's: source ⌊o · in/out⌋) or 'trilinear'; default 'nearest'. */
  mode?: 'nearest' | 'trilinear';
  /** Trilinear only: corners of input and output aligned (default false: half-pixel centres). */
  alignCorners?: boolean;
}

const f32 = Math.fround;

/** torch.nn.functional.interpolate for volumes x [N, C, D, H, W] (float32 coordinate arithmetic like PyTorch's). */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  checkRank('interpolate', 'x', x, 5, 'N, C, D, H, W');
  const { size, scaleFactor, mode = 'nearest', alignCorners } = options;
  if ((size === undefined) === (scaleFactor === undefined)) throw new Error('interpolate: give exactly one of size and scaleFactor');
  if (mode !== 'nearest' && mode !== 'trilinear') throw new Error(`interpolate: mode must be 'nearest' or 'trilinear', got '${mode}'`);
  if (mode === 'nearest' && alignCorners !== undefined) throw new Error("interpolate: alignCorners applies to mode 'trilinear' only");
  const inSize = x.shape.slice(2) as unknown as Triple;
  const factors =
    scaleFactor === undefined ? undefined : typeof scaleFactor === 'number' ? [scaleFactor, scaleFactor, scaleFactor] : scaleFactor;
  if (factors && (factors.length !== 3 || factors.some((s) => !(s > 0) || !Number.isFinite(s))))
    throw new Error(`interpolate: scaleFactor must be positive (a number or [d, h, w]), got ${JSON.stringify(scaleFactor)}`);
  const outSize = factors ? inSize.map((d, a) => Math.floor(d * factors[a]!)) : triple('interpolate', 'size', size, 1, 1);
  if (outSize.some((d) => d < 1))
    throw new Error(`interpolate: scaleFactor ${JSON.stringify(scaleFactor)} leaves no voxels of x ${formatShape(x.shape)}`);
  const axis = (a: number): AxisTaps => {
    const [n, m] = [inSize[a]!, outSize[a]!];
    const outputs = Array.from({ length: m }, (_, o) => o);
    const scale = factors ? f32(1 / factors[a]!) : f32(n / m);
    if (mode === 'nearest')
      return nearestTaps(
        outputs.map((o) => Math.floor(f32(o * scale))),
        n,
      );
    if (alignCorners) {
      const corners = m > 1 ? f32((n - 1) / (m - 1)) : 0;
      return linearTaps(
        outputs.map((o) => f32(o * corners)),
        n,
      );
    }
    return linearTaps(
      outputs.map((o) => f32(f32(scale * (o + 0.5)) - 0.5)),
      n,
    );
  };
  return resample3d(x, [axis(0), axis(1), axis(2)]);
}
