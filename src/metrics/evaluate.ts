/** Every segmentation metric at once, as `voxgpu evaluate` reports them. */
import type { Vec3 } from '../image/volume.js';
import { assertSameGrid, countForeground, type Mask } from './mask.js';
import { dice, jaccard, relativeVolumeDifference } from './overlap.js';
import { surfaceDistances, type SurfaceDistances } from './surface.js';

export interface SegmentationMetrics extends SurfaceDistances {
  dice: number;
  jaccard: number;
  relativeVolumeDifference: number;
  /** Foreground volumes in mm³. */
  predVolume: number;
  gtVolume: number;
}

export function evaluateSegmentation(pred: Mask, gt: Mask, shape: Vec3, spacing: Vec3): SegmentationMetrics {
  assertSameGrid(pred, gt, shape);
  const voxelVolume = spacing[0] * spacing[1] * spacing[2];
  return {
    dice: dice(pred, gt),
    jaccard: jaccard(pred, gt),
    relativeVolumeDifference: relativeVolumeDifference(pred, gt),
    ...surfaceDistances(pred, gt, shape, spacing),
    predVolume: countForeground(pred) * voxelVolume,
    gtVolume: countForeground(gt) * voxelVolume,
  };
}
