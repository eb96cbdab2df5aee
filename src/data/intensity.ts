/** Intensity normalisation. Works on flat voxel arrays: geometry plays no part. */
import { quantileOfSorted, sortedCopy } from './quantile.js';

export interface RescaleOptions {
  /** Output range; default [0, 1]. */
  min?: number;
  max?: number;
  /** Map these input percentiles (0–100) to the range ends and clip beyond: robust to a few hot voxels. */
  lowerPercentile?: number;
  upperPercentile?: number;
}

/** Linear map of [low, high] onto [min, max]; a constant image becomes all `min`. */
export function rescaleIntensity(data: ArrayLike<number>, options: RescaleOptions = {}): Float32Array {
  const { min = 0, max = 1, lowerPercentile, upperPercentile } = options;
  const sorted = lowerPercentile !== undefined || upperPercentile !== undefined ? sortedCopy(data) : undefined;
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < data.length; i++) {
    low = Math.min(low, data[i]);
    high = Math.max(high, data[i]);
  }
  if (sorted && lowerPercentile !== undefined) low = quantileOfSorted(sorted, lowerPercentile / 100);
  if (sorted && upperPercentile !== undefined) high = quantileOfSorted(sorted, upperPercentile / 100);
  const out = new Float32Array(data.length);
  const scale = high > low ? (max - min) / (high - low) : 0;
  for (let i = 0; i < data.length; i++) out[i] = min + (Math.min(Math.max(data[i], low), high) - low) * scale;
  return out;
}

/**
 * (v − mean) / std, with the statistics over the voxels where `mask` is non-zero (all voxels by default).
 * A constant image is only centred (no division by zero).
 */
export function zscore(data: ArrayLike<number>, mask?: ArrayLike<number>): Float32Array {
  let count = 0;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    if (mask && mask[i] === 0) continue;
    count++;
    sum += data[i];
  }
  const mean = count > 0 ? sum / count : 0;
  let squares = 0;
  for (let i = 0; i < data.length; i++) if (mask?.[i] !== 0) squares += (data[i] - mean) ** 2;
  const std = count > 0 ? Math.sqrt(squares / count) : 0;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = std > 0 ? (data[i] - mean) / std : data[i] - mean;
  return out;
}
