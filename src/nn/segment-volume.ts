// A scan in, a mask on the scan's own grid out: resample to the spacing the model was trained at,
// z-score the intensities, segment with sliding windows, and map the labels back (nearest). Shared
// by `voxgpu segment` and the browser demo; no file access.
import type { Vec3, Volume } from '../image/volume.js';
import { zscore } from '../data/intensity.js';
import { resampleToGrid, resampleToSpacing } from '../data/resample.js';
import { largestConnectedComponent } from '../metrics/components.js';
import { type Segmenter, segment, type SegmentOptions } from './segment.js';

export interface VolumeSegmentOptions extends Omit<SegmentOptions, 'window'> {
  /** Spacing (mm, [x, y, z]) the model was trained at; default the paper's [1, 1, 1.5]. */
  spacing?: Vec3;
  /** Sliding window in voxels, [x, y, z]; default the whole resampled scan. */
  window?: Vec3;
  /** Keep only the largest connected foreground component. */
  largestComponent?: boolean;
}

export interface VolumeSegmentation {
  /** Labels on the scan's grid, with its geometry. */
  mask: Volume;
  foregroundVoxels: number;
  /** Foreground volume in millilitres (voxels × voxel volume). */
  foregroundMl: number;
}

export async function segmentVolume(model: Segmenter, scan: Volume, options: VolumeSegmentOptions = {}): Promise<VolumeSegmentation> {
  const { spacing = [1, 1, 1.5], window, largestComponent, ...rest } = options;
  const resampled = resampleToSpacing(scan, spacing, 'linear');
  const [x, y, z] = resampled.shape;
  const result = await segment(model, zscore(resampled.data), [z, y, x], { ...rest, window: window && [window[2], window[1], window[0]] });
  const labels = largestComponent ? largestConnectedComponent(result.mask, resampled.shape) : result.mask;
  const onScan = resampleToGrid({ ...resampled, data: labels }, scan, 'nearest');
  const mask = { ...onScan, data: Uint8Array.from(onScan.data) };
  let foregroundVoxels = 0;
  for (const v of mask.data) if (v) foregroundVoxels++;
  const [sx, sy, sz] = scan.spacing;
  return { mask, foregroundVoxels, foregroundMl: (foregroundVoxels * sx * sy * sz) / 1000 };
}
