/**
 * Point sampling of a volume at continuous voxel indices, shared by resampling and deformation.
 *
 * Out-of-volume rule (ITK's): a point within half a voxel of the outermost voxel centres is inside the image
 * and takes the edge values; farther out it gets `outside`. So resampling to a finer grid that covers the same
 * extent never invents a dark rim, while a large deformation still pulls in background.
 */
import type { Vec3 } from '../image/volume.js';

export type Interpolation = 'linear' | 'nearest';

/** Half a voxel, plus slack for the rounding of grid maps that land exactly on the boundary. */
const EDGE = 0.5 + 1e-6;

function isOutside(shape: Vec3, x: number, y: number, z: number): boolean {
  return !(x >= -EDGE && x <= shape[0] - 1 + EDGE && y >= -EDGE && y <= shape[1] - 1 + EDGE && z >= -EDGE && z <= shape[2] - 1 + EDGE);
}

export function sampleNearest(data: ArrayLike<number>, shape: Vec3, x: number, y: number, z: number, outside: number): number {
  if (isOutside(shape, x, y, z)) return outside;
  const [nx, ny, nz] = shape;
  const i = Math.min(Math.floor(x + 0.5), nx - 1);
  const j = Math.min(Math.floor(y + 0.5), ny - 1);
  const k = Math.min(Math.floor(z + 0.5), nz - 1);
  return data[Math.max(i, 0) + nx * (Math.max(j, 0) + ny * Math.max(k, 0))];
}

/** Trilinear; exact (no rounding at all) at integer indices, so an identity mapping copies the data. */
export function sampleLinear(data: ArrayLike<number>, shape: Vec3, x: number, y: number, z: number, outside: number): number {
  if (isOutside(shape, x, y, z)) return outside;
  const [nx, ny, nz] = shape;
  const cx = Math.min(Math.max(x, 0), nx - 1);
  const cy = Math.min(Math.max(y, 0), ny - 1);
  const cz = Math.min(Math.max(z, 0), nz - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const z0 = Math.floor(cz);
  const fx = cx - x0;
  const fy = cy - y0;
  const fz = cz - z0;
  const dx = x0 < nx - 1 ? 1 : 0;
  const dy = y0 < ny - 1 ? nx : 0;
  const dz = z0 < nz - 1 ? nx * ny : 0;
  const i = x0 + nx * (y0 + ny * z0);
  const c00 = data[i] * (1 - fx) + data[i + dx] * fx;
  const c10 = data[i + dy] * (1 - fx) + data[i + dy + dx] * fx;
  const c01 = data[i + dz] * (1 - fx) + data[i + dz + dx] * fx;
  const c11 = data[i + dz + dy] * (1 - fx) + data[i + dz + dy + dx] * fx;
  return (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
}

export function sampler(interpolation: Interpolation): typeof sampleLinear {
  return interpolation === 'linear' ? sampleLinear : sampleNearest;
}
