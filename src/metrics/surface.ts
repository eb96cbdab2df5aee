/**
 * Surface distances. A mask's surface is its foreground voxels with at least one background 6-neighbour,
 * voxels outside the volume counting as background (MedPy's and the PROMISE12 evaluation's definition).
 * Distances run between voxel centres, in mm, through the exact EDT.
 *
 * Empty masks: both empty → all distances 0; exactly one empty → all Infinity.
 */
import type { Vec3 } from '../image/volume.js';
import { quantileOfSorted } from '../data/quantile.js';
import { distanceTransform } from './edt.js';
import { assertSameGrid, type Mask } from './mask.js';

export function surfaceVoxels(mask: Mask, shape: Vec3): Uint8Array {
  const [nx, ny, nz] = shape;
  const surface = new Uint8Array(nx * ny * nz);
  const inside = (i: number) => mask[i] !== 0;
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (!inside(i)) continue;
        const interior =
          x > 0 &&
          x < nx - 1 &&
          y > 0 &&
          y < ny - 1 &&
          z > 0 &&
          z < nz - 1 &&
          inside(i - 1) &&
          inside(i + 1) &&
          inside(i - nx) &&
          inside(i + nx) &&
          inside(i - nx * ny) &&
          inside(i + nx * ny);
        if (!interior) surface[i] = 1;
      }
    }
  }
  return surface;
}

export interface SurfaceDistances {
  /** Largest distance from a surface voxel of either mask to the other mask's surface (symmetric Hausdorff). */
  hausdorff: number;
  /** 95th percentile (numpy's linear interpolation) of those distances from both surfaces, pooled. */
  hausdorff95: number;
  /** Mean of those distances from both surfaces, pooled (Heimann et al. 2009's ASSD). */
  assd: number;
}

export function surfaceDistances(pred: Mask, gt: Mask, shape: Vec3, spacing: Vec3): SurfaceDistances {
  assertSameGrid(pred, gt, shape);
  const predSurface = surfaceVoxels(pred, shape);
  const gtSurface = surfaceVoxels(gt, shape);
  const predEmpty = !predSurface.includes(1);
  const gtEmpty = !gtSurface.includes(1);
  if (predEmpty && gtEmpty) return { hausdorff: 0, hausdorff95: 0, assd: 0 };
  if (predEmpty || gtEmpty) return { hausdorff: Infinity, hausdorff95: Infinity, assd: Infinity };
  const toGt = distanceTransform(gtSurface, shape, spacing);
  const toPred = distanceTransform(predSurface, shape, spacing);
  const distances: number[] = [];
  for (let i = 0; i < predSurface.length; i++) {
    if (predSurface[i]) distances.push(toGt[i]);
    if (gtSurface[i]) distances.push(toPred[i]);
  }
  const sorted = Float64Array.from(distances).sort();
  let sum = 0;
  for (const d of sorted) sum += d;
  return {
    hausdorff: sorted[sorted.length - 1],
    hausdorff95: quantileOfSorted(sorted, 0.95),
    assd: sum / sorted.length,
  };
}
