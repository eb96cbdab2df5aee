// brainchop's inference around an imported MeshNet (its inference-logic.js, runFullVolumeInference,
// commit 4c87885): min–max or quantile normalisation, an optional crop to the bounding box of a mask
// (the voxels above 0, above an auto-threshold, or a pre-model's brain) with padding, the volume
// transposed (all of brainchop's models set enableTranspose), the model over the whole volume, the
// argmax, and everything undone so the labels lie on the input's grid. Conforming the scan, the
// pre-model and the post-processing are brainchop-pipeline.ts's: here the volume is taken as it is.
import { cropOrPad } from '../data/crop.js';
import { sortedCopy } from '../data/quantile.js';
import { cloneGrid, type Vec3, type Volume } from '../io/volume.js';
import type { TfjsModel } from './tfjs-model.js';
import { predictVolume, type VolumeInferenceOptions } from './tfjs-tiles.js';

export interface BrainchopSegmentOptions extends Omit<VolumeInferenceOptions, 'scores'> {
  /** Reverse the volume's axes before the model and the labels' after (brainchop's enableTranspose). Default true. */
  transpose?: boolean;
  /**
   * Crop to the bounding box of the voxels above the scan's minimum, grown by this many voxels on each
   * side within the volume (brainchop's cropPadding, 18 for model5_gw_ae); the labels outside are 0.
   * Default: no crop.
   */
  cropPadding?: number;
  /**
   * brainchop's minMaxNormalizeVolumeData ('minmax', the default) or quantileNormalizeVolumeData
   * ('quantile', its enableQuantileNorm): (v − lo) / (hi − lo), lo and hi the 5th and 95th percentile
   * voxels by its index rule, not clipped.
   */
  normalization?: 'minmax' | 'quantile';
  /**
   * What the crop box surrounds (with cropPadding): the non-zero voxels of `cropMask` (a pre-model's
   * labels, same grid) when given; else, for 0 < autoThreshold ≤ 1, the normalised voxels above
   * autoThreshold × their maximum (brainchop's applyMriThreshold); else those above 0.
   */
  autoThreshold?: number;
  cropMask?: ArrayLike<number>;
}

export interface BrainchopSegmentation {
  /** Class indices on the scan's grid (uint8, or uint16 beyond 256 classes). */
  labels: Volume;
  classes: number;
}

/** data [a][b][c] (c fastest) → [c][b][a]: a 3-D tensor's transpose(), as brainchop calls it. */
export function reverseAxes<T extends Float32Array | Uint16Array>(data: T, [a, b, c]: readonly number[]): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let i = 0; i < a!; i++) for (let j = 0; j < b!; j++) for (let k = 0; k < c!; k++) out[(k * b! + j) * a! + i] = data[(i * b! + j) * c! + k]!;
  return out;
}

/**
 * brainchop's normalisation, in float32 as TF.js computes it (sub, then div). Quantiles: the sorted
 * voxels at floor(0.05 n) and ceil(0.95 n) − 1 (its calculateQuantiles, called with 0.05 and 0.95).
 */
export function brainchopNormalize(data: ArrayLike<number>, normalization: 'minmax' | 'quantile'): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  if (normalization === 'quantile') {
    const sorted = sortedCopy(data);
    lo = Math.fround(sorted[Math.floor(sorted.length * 0.05)]!);
    hi = Math.fround(sorted[Math.ceil(sorted.length * 0.95) - 1]!);
  } else {
    for (let i = 0; i < data.length; i++) [lo, hi] = [Math.min(lo, data[i]!), Math.max(hi, data[i]!)];
  }
  const range = Math.fround(hi - lo);
  // A constant scan: 0 everywhere, where brainchop's 0 / 0 would feed the model NaN.
  return Float32Array.from(data, (v) => (range > 0 ? Math.fround(v - lo) / range : 0));
}

/** brainchop's crop mask: `mask` > 0 when given, else normalised voxels above autoThreshold × their maximum (0 < t ≤ 1), else above 0. */
function cropMaskOf(normalized: Float32Array, autoThreshold: number, mask: ArrayLike<number> | undefined): ArrayLike<number> {
  if (mask) return mask;
  let threshold = 0;
  if (autoThreshold > 0 && autoThreshold <= 1) {
    let max = -Infinity;
    for (const v of normalized) max = Math.max(max, v);
    threshold = Math.fround(max * Math.fround(autoThreshold));
  }
  return Uint8Array.from(normalized, (v) => (v > threshold ? 1 : 0));
}

/** The bounding box [start, size] of voxels above 0, grown by `padding` and clipped to the volume. */
function paddedBox(data: ArrayLike<number>, [nx, ny, nz]: Vec3, padding: number): { start: Vec3; size: Vec3 } | null {
  const lo = [nx, ny, nz];
  const hi = [-1, -1, -1];
  for (let k = 0, v = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, v++) {
        if (!(data[v]! > 0)) continue;
        [i, j, k].forEach((p, a) => {
          lo[a] = Math.min(lo[a]!, p);
          hi[a] = Math.max(hi[a]!, p);
        });
      }
  if (hi[0]! < 0) return null;
  const n = [nx, ny, nz];
  const start = lo.map((l) => Math.max(0, l - padding)) as Vec3;
  const end = hi.map((h, a) => Math.min(n[a]! - 1, h + padding));
  return { start, size: end.map((e, a) => e - start[a]! + 1) as Vec3 };
}

/** Labels for a single-channel scan by brainchop's pipeline, on the scan's own grid. */
export async function segmentBrainchop(model: TfjsModel, scan: Volume, options: BrainchopSegmentOptions = {}): Promise<BrainchopSegmentation> {
  if (model.inChannels !== 1) throw new Error(`segmentBrainchop: the model takes ${model.inChannels} channels; brainchop's take one (a T1 scan)`);
  const { normalization = 'minmax', autoThreshold = 0, cropMask } = options;
  if (cropMask && cropMask.length !== scan.data.length) throw new Error(`segmentBrainchop: cropMask has ${cropMask.length} voxels, the scan [${scan.shape.join(', ')}] has ${scan.data.length}`);
  const normalized: Volume = { ...cloneGrid(scan), data: brainchopNormalize(scan.data, normalization) };
  const box = options.cropPadding === undefined ? null : paddedBox(cropMaskOf(normalized.data as Float32Array, autoThreshold, cropMask), scan.shape, options.cropPadding);
  const input = box ? cropOrPad(normalized, box.size, box.start) : normalized;
  // A volume's flat order is [z][y][x]; brainchop's transpose gives the model [x][y][z].
  const [nx, ny, nz] = input.shape;
  const transpose = options.transpose ?? true;
  const zyx = [nz, ny, nx];
  const data = transpose ? reverseAxes(input.data as Float32Array, zyx) : (input.data as Float32Array);
  const { labels, shape } = await predictVolume(model, data, transpose ? [nx, ny, nz] : zyx, options);
  if (shape.some((s, a) => s !== (transpose ? [nx, ny, nz] : zyx)[a])) throw new Error(`segmentBrainchop: the model's output [${shape.join(', ')}] is not the size of its input ('valid' convs)`);
  const back = transpose ? reverseAxes(labels, [nx, ny, nz]) : labels;
  const classes = model.outChannels;
  const onGrid: Volume = { ...cloneGrid(input), data: classes <= 256 ? Uint8Array.from(back) : back };
  const placed = box ? cropOrPad(onGrid, scan.shape, box.start.map((s) => -s) as Vec3) : onGrid;
  return { labels: { ...placed, ...cloneGrid(scan), data: placed.data }, classes };
}
