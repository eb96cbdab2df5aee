/**
 * FreeSurfer's conform (`mri_convert --conform`) as NiiVue's `conform()` computes it for brainchop: NiiVue
 * 0.62.0 (the version brainchop's package-lock.json pins), packages/niivue/src/niivue/index.ts,
 * `conformVox2Vox`, `conform`, `getScale`, `scalecropUint8`, and the minimum of nvimage's `calMinMax`.
 * brainchop calls `conform(nii, false)`: LIA orientation, trilinear, uint8 output, FreeSurfer's intensity rule.
 *
 * Geometry: a `size`³ cube of `spacing` mm voxels whose axes run Left, Inferior, Anterior (NIfTI's RAS
 * columns (−1,0,0), (0,0,−1), (0,1,0)), whose voxel `size / 2` sits on the scan's voxel `dims / 2` (FreeSurfer's
 * c_ras: half the dimensions, not the centre voxel, for both).
 * Sampling: an output voxel maps to a continuous input index p; it is 0 unless 0 ≤ p ≤ dims − 1 on every axis
 * (no half-voxel extension, unlike src/data/interpolate.ts, whose ITK rule would change the rim), and else the
 * trilinear blend of its 8 neighbours, summed in NiiVue's order and rounded to float32 as NiiVue stores it.
 * Intensity: a uint8 scan is only shifted by its minimum over the central half of each axis (NiiVue's
 * global_min) and clipped to 0..255; any other type is mapped from that minimum to FreeSurfer's 99.9th
 * percentile (a 1000-bin histogram of the whole scan, counting only voxels at or above that minimum) onto
 * 0..255, clipped. Both truncate to uint8.
 * Where we differ: NiiVue holds its 4×4 matrices in float32 (gl-matrix); we keep float64 (resample.ts's
 * indexToIndex, which snaps entries within 1e-9 of an integer), so a voxel whose value lands within ~1e-4 of an
 * integer may truncate one grey level apart. A negative scl_slope (NiiVue
 * takes the scaled raw minimum) is not reproduced: we take the minimum of the scaled values.
 */
import { cloneGrid, voxelTypeOf, type Grid, type Mat3, type Vec3, type Volume } from '../image/volume.js';
import { indexToIndex, resampleToGrid } from './resample.js';

export interface ConformOptions {
  /** Voxels per side; FreeSurfer's and NiiVue's 256. */
  size?: number;
  /** Voxel size in mm; FreeSurfer's and NiiVue's 1. */
  spacing?: number;
  /** 'linear' (NiiVue's default, brainchop's) or 'nearest' (Math.round of the input index, for label maps). */
  interpolation?: 'linear' | 'nearest';
}

/** LIA in LPS (Volume's world, src/image/volume.ts): NIfTI's RAS columns with x and y negated. */
const LIA_DIRECTION: Mat3 = [1, 0, 0, 0, 0, -1, 0, -1, 0];

function checkedOptions(options: ConformOptions): { size: number; spacing: number; interpolation: 'linear' | 'nearest' } {
  const { size = 256, spacing = 1, interpolation = 'linear' } = options;
  if (!(Number.isInteger(size) && size >= 1)) throw new Error(`conform: size must be a positive integer, got ${size}`);
  if (!(Number.isFinite(spacing) && spacing > 0)) throw new Error(`conform: spacing must be a positive number of mm, got ${spacing}`);
  if (interpolation !== 'linear' && interpolation !== 'nearest')
    throw new Error(`conform: interpolation must be 'linear' or 'nearest', got '${interpolation}'`);
  return { size, spacing, interpolation };
}

/** The conformed grid of a scan: where conform() puts its voxels. */
export function conformedGrid(scan: Grid, options: Pick<ConformOptions, 'size' | 'spacing'> = {}): Grid {
  const { size, spacing } = checkedOptions(options);
  // World (LPS) position of the scan's continuous index dims / 2, and of the conformed cube's size / 2.
  const half = scan.shape.map((n) => n / 2) as Vec3;
  const centre = [0, 1, 2].map(
    (r) => scan.origin[r]! + [0, 1, 2].reduce((s, c) => s + scan.direction[3 * r + c]! * scan.spacing[c]! * half[c]!, 0),
  );
  const cubeHalf = [0, 1, 2].map((r) => [0, 1, 2].reduce((s, c) => s + LIA_DIRECTION[3 * r + c]! * spacing * (size / 2), 0));
  return {
    shape: [size, size, size],
    spacing: [spacing, spacing, spacing],
    origin: centre.map((c, r) => c - cubeHalf[r]!) as Vec3,
    direction: [...LIA_DIRECTION],
    ...(scan.niftiCodes ? { niftiCodes: { ...scan.niftiCodes } } : {}),
  };
}

/** The scan resampled onto the conformed grid, float32, before any intensity rule (NiiVue's out_img). */
export function conformSamples(scan: Volume, options: ConformOptions = {}): Volume {
  const { interpolation } = checkedOptions(options);
  const grid = conformedGrid(scan, options);
  // NiiVue's inv_vox2vox: conformed voxel index → the scan's continuous voxel index.
  const { matrix: m, offset: t } = indexToIndex(grid, scan);
  const [dx, dy, dz] = scan.shape;
  const dxy = dx * dy;
  // NiiVue reads the scan as float32 (new Float32Array(volume.img)), after scl_slope; one array type also
  // keeps this loop monomorphic.
  const src = scan.data instanceof Float32Array ? scan.data : Float32Array.from(scan.data);
  const n = grid.shape[0];
  const out = new Float32Array(n * n * n);
  for (let z = 0, o = 0; z < n; z++) {
    for (let y = 0; y < n; y++) {
      const x0 = y * m[1] + z * m[2] + t[0];
      const y0 = y * m[4] + z * m[5] + t[1];
      const z0 = y * m[7] + z * m[8] + t[2];
      for (let x = 0; x < n; x++, o++) {
        const ix = x * m[0] + x0;
        const iy = x * m[3] + y0;
        const iz = x * m[6] + z0;
        if (interpolation === 'nearest') {
          const rx = Math.round(ix);
          const ry = Math.round(iy);
          const rz = Math.round(iz);
          if (rx < 0 || ry < 0 || rz < 0 || rx >= dx || ry >= dy || rz >= dz) continue;
          out[o] = src[rx + ry * dx + rz * dxy]!;
          continue;
        }
        const fx = Math.floor(ix);
        const fy = Math.floor(iy);
        const fz = Math.floor(iz);
        if (fx < 0 || fy < 0 || fz < 0 || Math.ceil(ix) >= dx || Math.ceil(iy) >= dy || Math.ceil(iz) >= dz) continue;
        const rcx = ix - fx;
        const rcy = iy - fy;
        const rcz = iz - fz;
        const rfx = 1 - rcx;
        const rfy = 1 - rcy;
        const rfz = 1 - rcz;
        const f = fx + fy * dx + fz * dxy;
        // NiiVue's terms and order, left to right. A point exactly on the last voxel of an axis gives its
        // past-the-edge neighbour weight 0: the next row or slice (0 · v = 0) or, near the end of the array, an
        // index past it: undefined · 0 = NaN, a voxel the uint8 conversion then sets to 0. Kept as NiiVue has it.
        let sum = 0;
        sum += (src[f] as number) * rfx * rfy * rfz;
        sum += (src[f + dxy] as number) * rfx * rfy * rcz;
        sum += (src[f + dx] as number) * rfx * rcy * rfz;
        sum += (src[f + dx + dxy] as number) * rfx * rcy * rcz;
        sum += (src[f + 1] as number) * rcx * rfy * rfz;
        sum += (src[f + 1 + dxy] as number) * rcx * rfy * rcz;
        sum += (src[f + 1 + dx] as number) * rcx * rcy * rfz;
        sum += (src[f + 1 + dx + dxy] as number) * rcx * rcy * rcz;
        out[o] = sum;
      }
    }
  }
  return { ...grid, data: out };
}

/** NiiVue's global_min and global_max: over the central half of each axis (calMinMax's 25 % borders), NaN skipped. */
function centralRange(scan: Volume): { min: number; max: number } {
  const [nx, ny] = scan.shape;
  const lo = scan.shape.map((n) => Math.floor(0.25 * n));
  const hi = scan.shape.map((n, a) => n - lo[a]!);
  let min = Infinity;
  let max = -Infinity;
  for (let z = lo[2]!; z < hi[2]!; z++)
    for (let y = lo[1]!; y < hi[1]!; y++)
      for (let x = lo[0]!; x < hi[0]!; x++) {
        const v = scan.data[x + nx * (y + ny * z)]!;
        if (Number.isNaN(v)) continue;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
  if (min > max) throw new Error('conform: the central part of the scan holds no finite value');
  return { min, max };
}

/** NiiVue's getScale(volume, 0, 255, 0, 0.999): [src_min, scale] with out = clip(scale · (v − src_min), 0, 255). */
export function conformIntensityScale(scan: Volume): { min: number; scale: number } {
  const { min, max } = centralRange(scan);
  if ((scan.storedType ?? voxelTypeOf(scan.data)) === 'uint8') return { min, scale: 1 };
  const bins = 1000;
  const binSize = (max - min) / bins;
  const histogram = new Float64Array(bins);
  let nonZero = 0;
  for (const v of scan.data) {
    if (Math.abs(v) >= 1e-15) nonZero++;
    // Below the central minimum (a negative bin) or NaN: not counted, as in NiiVue (hist[-3]++ counts nothing).
    const bin = Math.min(Math.floor((v - min) / binSize), bins - 1);
    if (bin >= 0) histogram[bin]!++;
  }
  const upper = scan.data.length - Math.floor((1 - 0.999) * nonZero);
  let idx = 0;
  for (let cumulative = histogram[0]!; idx < bins - 1; idx++) {
    cumulative += histogram[idx + 1]!;
    if (cumulative >= upper) break;
  }
  const srcMax = idx * binSize + min;
  return { min, scale: srcMax !== min ? 255 / (srcMax - min) : 1 };
}

/**
 * The scan conformed as NiiVue's `conform(volume, false)` does it for brainchop: uint8, `size`³ at `spacing` mm,
 * LIA, with FreeSurfer's intensity rule (see the top of this file). `conformedGrid(scan)` is its grid.
 */
export function conform(scan: Volume, options: ConformOptions = {}): Volume {
  const samples = conformSamples(scan, options);
  const { min, scale } = conformIntensityScale(scan);
  const data = new Uint8Array(samples.data.length);
  // Uint8Array stores truncate (NaN → 0), as NiiVue's scalecropUint8 relies on.
  for (let i = 0; i < data.length; i++) data[i] = Math.min(Math.max(scale * (samples.data[i]! - min), 0), 255);
  return { ...cloneGrid(samples), data };
}

/**
 * Labels computed on the conformed grid of `scan` put back onto the scan's own grid by nearest neighbour
 * (resampleToGrid), keeping their integer type; scan voxels outside the conformed cube get 0.
 */
export function labelsToScanGrid(labels: Volume, scan: Grid): Volume {
  const expected = conformedGrid(scan, { size: labels.shape[0], spacing: labels.spacing[0] });
  const same = (a: readonly number[], b: readonly number[]) =>
    a.every((v, i) => Math.abs(v - b[i]!) <= 1e-6 * Math.max(1, Math.abs(b[i]!)));
  if (
    !(
      same(labels.shape, expected.shape) &&
      same(labels.spacing, expected.spacing) &&
      same(labels.origin, expected.origin) &&
      same(labels.direction, expected.direction)
    )
  ) {
    throw new Error(
      `labelsToScanGrid: the labels' grid (shape [${labels.shape}], spacing [${labels.spacing}], origin [${labels.origin}], ` +
        `direction [${labels.direction}]) is not the conformed grid of the scan (shape [${expected.shape}], spacing ` +
        `[${expected.spacing}], origin [${expected.origin}], direction [${expected.direction}])`,
    );
  }
  const back = resampleToGrid(labels, scan, 'nearest');
  return { ...back, ...cloneGrid(scan), data: back.data };
}
