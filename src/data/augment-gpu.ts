/**
 * The augmentation of augment.ts on the GPU (kernels/augment.wgsl), forward only: the B-spline field, the
 * warp of image and label, and histogram matching. Nothing here reads back to the CPU, so a training loop
 * can record a batch's augmentation next to its step. The CPU functions stay the float64 reference; these
 * follow them step by step in float32 (test/data/augment-gpu.test.ts states the tolerances):
 *
 * - field: within 1e-5 × the largest control displacement of bsplineField;
 * - warp: the image within 1e-4 × its largest magnitude of warp(…, 'linear'); the label identical except at
 *   sample points within float32 rounding of a nearest-neighbour boundary; a zero field is exactly the identity,
 *   and mirroring is exact (the same samples, written to the mirrored voxels);
 * - matching: the same source bins and reference quantiles as matchHistogram (counts are integers, the
 *   quantile comparisons exact), so values agree to float32 rounding, except values within float32 rounding
 *   of a bin edge, which may fall in the neighbouring bin.
 *
 * Volumes are flat tensors of `nx · ny · nz` values in Volume order (x fastest); fields are [3, nz, ny, nx]
 * (all x displacements, then y, then z), like DisplacementField.
 */
import { tidy } from '../core/memory.js';
import { formatShape, empty, tensor, type Tensor } from '../core/tensor.js';
import { runElementwise } from '../ops/util.js';
import { shapeSize } from '../core/shape.js';
import type { Vec3 } from '../image/volume.js';
import type { ControlGrid } from './augment.js';

function checkVolume(op: string, name: string, t: Tensor, shape: Vec3): void {
  if (t.size !== shapeSize(shape)) {
    throw new Error(
      `${op}: ${name} ${formatShape(t.shape)} has ${t.size} values, expected ${shapeSize(shape)} for a volume of [${shape}] voxels`,
    );
  }
}

/** The dense displacement field of `grid` over a volume of `shape` voxels, as bsplineField. */
export function bsplineFieldGpu(shape: Vec3, grid: ControlGrid): Tensor {
  const m = grid.controlPoints;
  if (!Number.isInteger(m) || m < 4 || [grid.x, grid.y, grid.z].some((a) => a.length !== m ** 3)) {
    throw new Error(
      `bsplineFieldGpu: a control grid of ${m}³ points needs ${m ** 3} values per axis (m ≥ 4), got ${grid.x.length}, ` +
        `${grid.y.length}, ${grid.z.length}`,
    );
  }
  const coefficients = new Float32Array(3 * m ** 3);
  [grid.x, grid.y, grid.z].forEach((a, i) => coefficients.set(a, i * m ** 3));
  return tidy(() => {
    const control = tensor(coefficients);
    const [nx, ny, nz] = shape;
    const params = { nx, ny, nz, m };
    const alongX = empty([3, m, m, nx]);
    const alongXY = empty([3, m, ny, nx]);
    const field = empty([3, nz, ny, nx]);
    const op = 'bsplineFieldGpu';
    runElementwise(op, 'augment', 'fieldAlongX', alongX.size, { grid: control, alongX }, params);
    runElementwise(op, 'augment', 'fieldAlongY', alongXY.size, { alongXIn: alongX, alongXY }, params);
    runElementwise(op, 'augment', 'fieldAlongZ', shapeSize(shape), { alongXYIn: alongXY, field }, params);
    return field;
  });
}

export interface WarpTargets {
  image: Tensor;
  label: Tensor;
  /** Where the warped volume starts in both targets (a batch's sample b: b · voxels). */
  offset: number;
}

export interface WarpOptions {
  /** The image's value beyond the edge (the label's is 0); default 0. */
  outside?: number;
  /** Where to write (e.g. one sample of a batch); default new tensors of the image's shape. */
  into?: WarpTargets;
  /** Mirror the warped volumes along these axes, as mirror() takes them; default 0 (none). Exact: no arithmetic. */
  mirror?: number;
}

/** `image` (trilinear) and `label` (nearest) deformed by `field`, as warp() does each, then mirrored if asked. */
export function warpGpu(
  image: Tensor,
  label: Tensor,
  field: Tensor,
  shape: Vec3,
  options: WarpOptions = {},
): { image: Tensor; label: Tensor } {
  const { outside = 0, into, mirror = 0 } = options;
  const op = 'warpGpu';
  checkVolume(op, 'image', image, shape);
  checkVolume(op, 'label', label, shape);
  if (!Number.isInteger(mirror) || mirror < 0 || mirror > 7)
    throw new Error(`${op}: mirror must be a set of axes from 0 to 7 (bit 0 x, 1 y, 2 z), got ${mirror}`);
  if (field.size !== 3 * shapeSize(shape))
    throw new Error(
      `${op}: field ${formatShape(field.shape)} does not fit a volume of [${shape}] voxels: expected [3, ${shape[2]}, ` +
        `${shape[1]}, ${shape[0]}]`,
    );
  const out = into ?? { image: empty(image.shape), label: empty(image.shape), offset: 0 };
  for (const [name, t] of [
    ['image', out.image],
    ['label', out.label],
  ] as const) {
    if (out.offset + image.size > t.size)
      throw new Error(`${op}: target ${name} ${formatShape(t.shape)} has no room for ${image.size} values at offset ${out.offset}`);
  }
  runElementwise(
    op,
    'augment',
    'warp',
    image.size,
    { image, label, displacement: field, outImage: out.image, outLabel: out.label },
    { nx: shape[0], ny: shape[1], nz: shape[2], outOffset: out.offset, outside, mirror },
  );
  return { image: out.image, label: out.label };
}

/** A volume's intensity histogram on the GPU: its range and cumulative bin counts. */
export interface GpuHistogram {
  values: Tensor;
  bins: number;
  /** [min key, max key] as u32 (order-preserving keys, kernels/augment.wgsl). */
  range: Tensor;
  /** Cumulative counts, bins + 1 u32. */
  cdf: Tensor;
  dispose(): void;
}

/** The histogram matchHistogram makes of `values` (default 65536 bins), kept on the GPU for reuse. */
export function histogramGpu(values: Tensor, bins = 65536): GpuHistogram {
  const op = 'histogramGpu';
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`${op}: bins must be a positive integer, got ${bins}`);
  if (values.size === 0) throw new Error(`${op}: histogram of an empty volume ${formatShape(values.shape)}`);
  // The quantile comparisons multiply 2 · n by counts in 32-bit words.
  if (values.size >= 2 ** 31) throw new Error(`${op}: at most 2^31 − 1 values, got ${values.size}`);
  const stats = empty([bins + 2]);
  const cdf = empty([bins + 1]);
  // histRange's and histCount's invocations, each striding over the values: enough to fill a GPU.
  const stride = Math.min(values.size, 16384);
  const params = { n: values.size, bins, outOffset: 0, nRef: values.size, stride };
  runElementwise(op, 'augment', 'histClear', bins + 2, { stats }, params);
  runElementwise(op, 'augment', 'histRange', stride, { values, stats }, params);
  runElementwise(op, 'augment', 'histCount', stride, { values, stats }, params);
  runElementwise(op, 'augment', 'histCumulate', 1, { stats, cdfOut: cdf }, params);
  // Only the range outlives the counts: half the memory of a training set's histograms.
  const range = empty([2]);
  values.ctx.copy(stats.buffer, range.buffer, 8);
  stats.dispose();
  return {
    values,
    bins,
    range,
    cdf,
    dispose: () => {
      range.dispose();
      cdf.dispose();
    },
  };
}

/**
 * `source`'s intensities remapped to `reference`'s distribution, as matchHistogram. Takes volumes (their
 * histograms made with `bins`, freed after), or histograms from histogramGpu (a training set's, made once);
 * writes into `into` at `offset` when given.
 */
export function matchHistogramGpu(
  source: Tensor | GpuHistogram,
  reference: Tensor | GpuHistogram,
  options: { bins?: number; into?: Tensor; offset?: number } = {},
): Tensor {
  const op = 'matchHistogramGpu';
  // Histograms made here from volumes are freed with the table (and on error).
  return tidy(() => {
    const from = 'cdf' in source ? source : histogramGpu(source, options.bins);
    const to = 'cdf' in reference ? reference : histogramGpu(reference, options.bins ?? from.bins);
    if (from.bins !== to.bins) throw new Error(`${op}: source and reference histograms have ${from.bins} and ${to.bins} bins`);
    const { into, offset = 0 } = options;
    const out = into ?? empty(from.values.shape);
    if (offset + from.values.size > out.size)
      throw new Error(`${op}: target ${formatShape(out.shape)} has no room for ${from.values.size} values at offset ${offset}`);
    const table = empty([from.bins]);
    const params = { n: from.values.size, bins: from.bins, outOffset: offset, nRef: to.values.size, stride: 0 };
    runElementwise(op, 'augment', 'histTable', from.bins, { cdf: from.cdf, refRange: to.range, refCdf: to.cdf, tableOut: table }, params);
    runElementwise(
      op,
      'augment',
      'histApply',
      from.values.size,
      { values: from.values, srcRange: from.range, table, matched: out },
      params,
    );
    return out;
  });
}
