/**
 * Masks for the metrics are flat arrays in Volume order (x fastest; see src/image/volume.ts) with shape
 * `[nx, ny, nz]`; any non-zero value is foreground, so label maps and probability thresholds both work.
 */
import type { Vec3 } from '../image/volume.js';

export type Mask = ArrayLike<number>;

export function assertSameGrid(a: Mask, b: Mask, shape: Vec3): void {
  const n = shape[0] * shape[1] * shape[2];
  if (a.length !== n || b.length !== n) {
    throw new Error(`masks of ${a.length} and ${b.length} voxels do not fit shape [${shape}] (${n} voxels)`);
  }
}

export function countForeground(mask: Mask): number {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) count++;
  return count;
}
