/**
 * Resampling between voxel grids in world space (see src/image/volume.ts for the geometry convention): to the
 * network's spacing before training or inference (the paper: 1 × 1 × 1.5 mm), and back onto the scan's own
 * grid for a prediction. Images use trilinear interpolation, label maps nearest neighbour (labels stay labels
 * and keep their integer type).
 */
import {
  allocateVoxels,
  cloneGrid,
  indexToWorld,
  voxelTypeOf,
  type Grid,
  type Mat3,
  type Vec3,
  type Volume,
  type VoxelArray,
} from '../image/volume.js';
import { sampler, type Interpolation } from './interpolate.js';

/**
 * The grid with `spacing` over the same extent (the outer voxel faces, not the outer voxel centres): same
 * direction, size scaled and rounded, first voxel centre half a new voxel inside the old first face. Keeping
 * the origin instead would, for a ratio above 2 (0.6 → 1.5 mm slices), put the last new voxels past the
 * image and leave a rim of background.
 */
export function gridWithSpacing(grid: Grid, spacing: Vec3): Grid {
  const firstCentre = spacing.map((s, a) => (s / grid.spacing[a] - 1) / 2) as Vec3;
  return {
    ...cloneGrid(grid),
    shape: grid.shape.map((n, a) => Math.max(1, Math.round((n * grid.spacing[a]) / spacing[a]))) as Vec3,
    spacing: [...spacing],
    origin: indexToWorld(grid, firstCentre),
  };
}

export function resampleToSpacing(volume: Volume, spacing: Vec3, interpolation: Interpolation): Volume {
  return resampleToGrid(volume, gridWithSpacing(volume, spacing), interpolation);
}

/** `volume`'s values on `grid`'s voxels; points beyond the volume (see interpolate.ts) get `outside`. */
export function resampleToGrid(volume: Volume, grid: Grid, interpolation: Interpolation, outside = 0): Volume {
  const [nx, ny, nz] = grid.shape;
  const data: VoxelArray =
    interpolation === 'linear' ? new Float32Array(nx * ny * nz) : allocateVoxels(voxelTypeOf(volume.data), nx * ny * nz);
  const { matrix: m, offset: t } = indexToIndex(grid, volume);
  const sample = sampler(interpolation);
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const x0 = m[1] * j + m[2] * k + t[0];
      const y0 = m[4] * j + m[5] * k + t[1];
      const z0 = m[7] * j + m[8] * k + t[2];
      for (let i = 0; i < nx; i++, n++) {
        data[n] = sample(volume.data, volume.shape, x0 + m[0] * i, y0 + m[3] * i, z0 + m[6] * i, outside);
      }
    }
  }
  return { ...cloneGrid(grid), data };
}

/** The affine map from voxel indices of `from` to (continuous) voxel indices of `to`. */
export function indexToIndex(from: Grid, to: Grid): { matrix: Mat3; offset: Vec3 } {
  const toInverse = invert(scaledDirection(to));
  const fromMatrix = scaledDirection(from);
  const matrix = multiply(toInverse, fromMatrix).map(snap) as Mat3;
  const delta = from.origin.map((o, a) => o - to.origin[a]);
  const offset = [0, 1, 2].map((r) =>
    snap(toInverse[3 * r] * delta[0] + toInverse[3 * r + 1] * delta[1] + toInverse[3 * r + 2] * delta[2]),
  ) as Vec3;
  return { matrix, offset };
}

/**
 * Rounding noise of the inversion (0.7⁻¹ · 0.7 = 0.9999999999999999) would make an identical or integer-shifted
 * grid interpolate between neighbours instead of copying voxels; values this close to an integer are one.
 */
function snap(value: number): number {
  const nearest = Math.round(value);
  return Math.abs(value - nearest) < 1e-9 ? nearest : value;
}

function scaledDirection(grid: Grid): Mat3 {
  return grid.direction.map((v, i) => v * grid.spacing[i % 3]) as Mat3;
}

function multiply(a: Mat3, b: Mat3): Mat3 {
  const out = Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[3 * r + c] += a[3 * r + k] * b[3 * k + c];
  return out as Mat3;
}

function invert(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new Error('singular voxel-to-world matrix');
  return [
    (e * i - f * h) / det,
    (c * h - b * i) / det,
    (b * f - c * e) / det,
    (f * g - d * i) / det,
    (a * i - c * g) / det,
    (c * d - a * f) / det,
    (d * h - e * g) / det,
    (b * g - a * h) / det,
    (a * e - b * d) / det,
  ];
}
