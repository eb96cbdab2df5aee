// Float64 references for instanceNorm, groupNorm and batchNorm over x [N, C, ...] (two-pass
// statistics; the tests check gradients against finite differences of these).
import { shapeSize } from '../../src/core/shape.js';

export interface Affine {
  weight?: Float64Array;
  bias?: Float64Array;
  eps?: number;
}

export interface RowStats {
  mean: Float64Array;
  /** Biased variance. */
  variance: Float64Array;
  /** Elements per row. */
  count: number;
}

/** Each element's statistics row: n·G + c / (C / G) for groups, c for 'batch'. */
function rowIndex(shape: readonly number[], groups: number | 'batch'): (i: number) => number {
  const channels = shape[1]!;
  const inner = shapeSize(shape.slice(2));
  return (i) => {
    const plane = Math.floor(i / inner);
    const c = plane % channels;
    return groups === 'batch' ? c : Math.floor(plane / channels) * groups + Math.floor(c / (channels / groups));
  };
}

export function rowStats(x: Float64Array, shape: readonly number[], groups: number | 'batch'): RowStats {
  const rows = groups === 'batch' ? shape[1]! : shape[0]! * groups;
  const row = rowIndex(shape, groups);
  const count = x.length / rows;
  const mean = new Float64Array(rows);
  const variance = new Float64Array(rows);
  x.forEach((v, i) => (mean[row(i)]! += v / count));
  x.forEach((v, i) => (variance[row(i)]! += (v - mean[row(i)]!) ** 2 / count));
  return { mean, variance, count };
}

/** (x − mean) / √(var + eps) · weight + bias, with the given statistics or the rows' own. */
export function normalize(
  x: Float64Array,
  shape: readonly number[],
  groups: number | 'batch',
  a: Affine = {},
  stats = rowStats(x, shape, groups),
): Float64Array {
  const row = rowIndex(shape, groups);
  const channels = shape[1]!;
  const inner = shapeSize(shape.slice(2));
  const eps = a.eps ?? 1e-5;
  return x.map((v, i) => {
    const r = row(i);
    const c = Math.floor(i / inner) % channels;
    return ((v - stats.mean[r]!) / Math.sqrt(stats.variance[r]! + eps)) * (a.weight?.[c] ?? 1) + (a.bias?.[c] ?? 0);
  });
}

/** PyTorch's running-statistics update after a training batch (the variance unbiased). */
export function updatedRunning(
  running: { mean: Float64Array; variance: Float64Array },
  batch: RowStats,
  momentum: number,
): { mean: Float64Array; variance: Float64Array } {
  return {
    mean: running.mean.map((m, c) => (1 - momentum) * m + momentum * batch.mean[c]!),
    variance: running.variance.map((v, c) => (1 - momentum) * v + momentum * batch.variance[c]! * (batch.count / (batch.count - 1))),
  };
}
