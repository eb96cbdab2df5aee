/**
 * The V-Net paper's on-the-fly augmentation, on the CPU, seeded (src/data/random.ts) so runs reproduce:
 *
 * - a random dense deformation: a cubic B-spline displacement field interpolating a coarse grid of control
 *   points whose displacements are drawn from N(0, σ²) voxels (the original: 5 × 5 × 5 points, i.e. a
 *   2 × 2 × 2 B-spline mesh, σ = 15), applied to image (trilinear) and label (nearest) alike;
 * - histogram matching of a training volume's intensities to another scan's (quantile mapping).
 *
 * Fields and volumes are flat arrays in Volume order (x fastest) with shape `[nx, ny, nz]`.
 */
import { allocateVoxels, voxelTypeOf, type Vec3, type VoxelArray } from '../image/volume.js';
import { sampler, type Interpolation } from './interpolate.js';
import type { Rng } from './random.js';

/** Per-voxel displacement in voxels: the output voxel p samples the input at p + (x, y, z)[p]. */
export interface DisplacementField {
  x: Float32Array;
  y: Float32Array;
  z: Float32Array;
}

export interface DeformationOptions {
  /** Control points per axis, at least 4 (a cubic B-spline needs 4); default 5. */
  controlPoints?: number;
  /** Standard deviation of the control point displacements, in voxels; default 15. */
  sigma?: number;
}

/** Control point displacements for each axis, `controlPoints³` values each, x fastest. */
export interface ControlGrid {
  controlPoints: number;
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
}

export function randomControlGrid(rng: Rng, options: DeformationOptions = {}): ControlGrid {
  const { controlPoints = 5, sigma = 15 } = options;
  if (!Number.isInteger(controlPoints) || controlPoints < 4) {
    throw new Error(`controlPoints must be an integer ≥ 4, got ${controlPoints}`);
  }
  const draw = () => Float64Array.from({ length: controlPoints ** 3 }, () => rng.normal(0, sigma));
  return { controlPoints, x: draw(), y: draw(), z: draw() };
}

/**
 * The dense field of a uniform cubic B-spline over the volume. Like ITK's BSplineTransform, the
 * `controlPoints − 3` spline spans cover the volume exactly, with one control point beyond each end.
 */
export function bsplineField(shape: Vec3, grid: ControlGrid): DisplacementField {
  const weights = shape.map((n) => basisWeights(n, grid.controlPoints));
  return {
    x: evaluateTensorSpline(grid.x, shape, weights, grid.controlPoints),
    y: evaluateTensorSpline(grid.y, shape, weights, grid.controlPoints),
    z: evaluateTensorSpline(grid.z, shape, weights, grid.controlPoints),
  };
}

export function randomBSplineField(shape: Vec3, rng: Rng, options: DeformationOptions = {}): DisplacementField {
  return bsplineField(shape, randomControlGrid(rng, options));
}

/** n × m matrix: weight of control point c for voxel v along one axis (4 non-zero per row, summing to 1). */
function basisWeights(n: number, m: number): Float64Array {
  const spans = m - 3;
  const w = new Float64Array(n * m);
  for (let v = 0; v < n; v++) {
    const t = n > 1 ? (v * spans) / (n - 1) : 0;
    const span = Math.min(Math.floor(t), spans - 1);
    const u = t - span;
    const row = v * m + span;
    w[row] = (1 - u) ** 3 / 6;
    w[row + 1] = (3 * u ** 3 - 6 * u ** 2 + 4) / 6;
    w[row + 2] = (-3 * u ** 3 + 3 * u ** 2 + 3 * u + 1) / 6;
    w[row + 3] = u ** 3 / 6;
  }
  return w;
}

/** Σ_abc wx[x,a] wy[y,b] wz[z,c] coef[a,b,c], contracting one axis at a time (O(N·m) instead of O(N·m³)). */
function evaluateTensorSpline(coef: Float64Array, shape: Vec3, [wx, wy, wz]: Float64Array[], m: number): Float32Array {
  const [nx, ny, nz] = shape;
  const alongX = new Float64Array(nx * m * m); // [x, b, c]
  for (let c = 0; c < m; c++) {
    for (let b = 0; b < m; b++) {
      for (let x = 0; x < nx; x++) {
        let sum = 0;
        for (let a = 0; a < m; a++) sum += wx[x * m + a] * coef[a + m * (b + m * c)];
        alongX[x + nx * (b + m * c)] = sum;
      }
    }
  }
  const alongXY = new Float64Array(nx * ny * m); // [x, y, c]
  for (let c = 0; c < m; c++) {
    for (let y = 0; y < ny; y++) {
      for (let b = 0; b < m; b++) {
        const w = wy[y * m + b];
        if (w === 0) continue;
        for (let x = 0; x < nx; x++) alongXY[x + nx * (y + ny * c)] += w * alongX[x + nx * (b + m * c)];
      }
    }
  }
  const out = new Float32Array(nx * ny * nz);
  const plane = nx * ny;
  for (let z = 0; z < nz; z++) {
    for (let c = 0; c < m; c++) {
      const w = wz[z * m + c];
      if (w === 0) continue;
      for (let p = 0; p < plane; p++) out[z * plane + p] += w * alongXY[p + plane * c];
    }
  }
  return out;
}

/**
 * `data` deformed by `field` (backward mapping). Linear interpolation gives float32; nearest keeps the input's
 * type, which is what label maps need. An all-zero field returns an exact copy.
 */
export function warp(data: VoxelArray, shape: Vec3, field: DisplacementField, interpolation: Interpolation, outside = 0): VoxelArray {
  const [nx, ny, nz] = shape;
  const out = interpolation === 'linear' ? new Float32Array(data.length) : allocateVoxels(voxelTypeOf(data), data.length);
  const sample = sampler(interpolation);
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        out[n] = sample(data, shape, i + field.x[n], j + field.y[n], k + field.z[n], outside);
      }
    }
  }
  return out;
}

/**
 * `data`, `channels` volumes of `shape` = [nx, ny, nz] voxels one after another, reversed along x (bit 0 of
 * `axes`), y (bit 1) and z (bit 2); `data` itself for axes 0. Its own inverse. Random mirroring is not the
 * paper's augmentation but nnU-Net's (each axis with probability ½), and the same function mirrors
 * segment()'s windows at test time.
 */
export function mirror<T extends VoxelArray>(data: T, shape: Vec3, axes: number, channels = 1): T {
  if (axes === 0) return data;
  const [nx, ny, nz] = shape;
  const out = allocateVoxels(voxelTypeOf(data), data.length) as T;
  const at = (v: number, n: number, bit: number) => (axes & bit ? n - 1 - v : v);
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        const src = ((c * nz + z) * ny + y) * nx;
        const dst = ((c * nz + at(z, nz, 4)) * ny + at(y, ny, 2)) * nx;
        if (axes & 1) for (let x = 0; x < nx; x++) out[dst + nx - 1 - x] = data[src + x]!;
        else out.set(data.subarray(src, src + nx), dst);
      }
    }
  }
  return out;
}

export interface HistogramMatchOptions {
  /** Histogram bins over each volume's intensity range; default 65536. */
  bins?: number;
}

/**
 * `source`'s intensities remapped so that their distribution follows `reference`'s: each value goes to the
 * reference value at the same quantile. Monotone, so anatomy keeps its contrast order; equal values stay
 * equal, at the middle of their quantile range (a background of zeros lands on the reference's quantile of
 * half the background fraction, not on its minimum).
 *
 * Quantiles come from fine histograms rather than sorting: O(n) instead of O(n log n), which keeps a
 * 128 × 128 × 64 volume in tens of milliseconds. The price is resolution: values within 1/65536 of the
 * intensity range of each other map to the same output.
 */
export function matchHistogram(source: ArrayLike<number>, reference: ArrayLike<number>, options: HistogramMatchOptions = {}): Float32Array {
  const bins = options.bins ?? 65536;
  const from = cumulativeHistogram(source, bins);
  const to = cumulativeHistogram(reference, bins);
  // For each source bin, the reference value at the bin's mid-rank quantile; both walks are monotone.
  const table = new Float64Array(bins);
  for (let b = 0, r = 0; b < bins; b++) {
    const q = (from.cdf[b] + from.cdf[b + 1]) / 2;
    while (r < bins - 1 && to.cdf[r + 1] < q) r++;
    const mass = to.cdf[r + 1] - to.cdf[r];
    table[b] = to.min + (r + (mass > 0 ? (q - to.cdf[r]) / mass : 0.5)) * to.width;
  }
  const out = new Float32Array(source.length);
  for (let i = 0; i < source.length; i++) out[i] = table[from.bin(source[i])];
  return out;
}

/** cdf[b]: the fraction of values in bins below b (cdf[0] = 0, cdf[bins] = 1). */
function cumulativeHistogram(values: ArrayLike<number>, bins: number) {
  if (values.length === 0) throw new Error('histogram of an empty volume');
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  const width = (max - min) / bins;
  const bin = (v: number) => (width > 0 ? Math.min(Math.floor((v - min) / width), bins - 1) : 0);
  const cdf = new Float64Array(bins + 1);
  for (let i = 0; i < values.length; i++) cdf[bin(values[i]) + 1]++;
  for (let b = 1; b <= bins; b++) cdf[b] = cdf[b - 1] + cdf[b] / values.length;
  return { min, width, cdf, bin };
}
