// brainchop's inference around an imported MeshNet (its inference-logic.js, commit 4c87885):
// min–max or quantile normalisation, an optional crop to the bounding box of the voxels above 0 (or
// above a fraction of the maximum) with padding, the volume transposed (all of brainchop's models set
// enableTranspose), the model over the whole volume, the argmax, and everything undone so the labels
// lie on the scan's grid, optionally only the largest connected component kept. The per-model settings
// come from brainchop-parameters.js' names in a brainchop.json beside the model (`brainchopSettings`).
// Conforming the scan to 256³ at 1 mm and running a pre-model first are brainchop-pipeline.ts's
// (segmentScan): here the scan is taken on its own grid, a pre-model's brain as `cropMask`.
import { cropOrPad } from '../data/crop.js';
import { rescaleIntensity } from '../data/intensity.js';
import { cloneGrid, type Vec3, type Volume } from '../image/volume.js';
import { largestConnectedComponent } from '../metrics/components.js';
import type { TfjsModel } from './tfjs-model.js';
import { predictVolume, type VolumeInferenceOptions } from './tfjs-tiles.js';

export interface BrainchopSegmentOptions extends Omit<VolumeInferenceOptions, 'scores'> {
  /** Reverse the volume's axes before the model and the labels' after (brainchop's enableTranspose). Default true. */
  transpose?: boolean;
  /**
   * Crop to the bounding box of the voxels above 0 once normalised (above the scan's minimum, for
   * min–max), grown by this many voxels on each side within the volume (brainchop's cropPadding, 18
   * for model5_gw_ae); the labels outside are 0. Default: no crop.
   */
  cropPadding?: number;
  /**
   * Normalise to the 5th–95th percentiles as brainchop's quantileNormalizeVolumeData does (its index
   * rule, no clipping) instead of min–max. Default false.
   */
  quantileNorm?: boolean;
  /** Crop to the voxels above this fraction of the normalised maximum instead of above 0 (brainchop's autoThreshold, in (0, 1]). */
  autoThreshold?: number;
  /**
   * Crop to the non-zero voxels of this mask (same grid) instead, ignoring autoThreshold: a pre-model's
   * labels, as brainchop's runFullVolumeInference takes pipeline1_out > 0.
   */
  cropMask?: ArrayLike<number>;
  /**
   * Keep only the largest 26-connected component of the voxels not labelled 0, the labels inside it
   * unchanged (brainchop's post-processing, `isPostProcessEnable`, on by default there). Default false.
   */
  largestComponent?: boolean;
}

/**
 * Options from a brainchop model entry (brainchop-parameters.js' field names, as JSON): enableTranspose
 * (default true), enableCrop (default false), cropPadding, autoThreshold, enableQuantileNorm (default
 * false), and isPostProcessEnable (brainChopOpts' field, default true as there). A pre-model is
 * refused; other fields (names, descriptions, UI settings) are ignored.
 */
export function brainchopSettings(entry: Record<string, unknown>, source = 'brainchop settings'): BrainchopSegmentOptions {
  const bool = (key: string, fallback: boolean): boolean => {
    const v = entry[key] ?? fallback;
    if (typeof v !== 'boolean') throw new Error(`${source}: ${key} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const number = (key: string, ok: (v: number) => boolean, what: string): number | undefined => {
    const v = entry[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !ok(v)) throw new Error(`${source}: ${key} must be ${what}, got ${JSON.stringify(v)}`);
    return v;
  };
  if (entry.preModelId !== undefined && entry.preModelId !== null)
    throw new Error(
      `${source}: preModelId ${JSON.stringify(entry.preModelId)}: name the pre-model's model.json as "preModel" (a path ` +
        `relative to this file) instead`,
    );
  const threshold = number('autoThreshold', (v) => v >= 0 && v <= 1, 'in [0, 1]');
  return {
    transpose: bool('enableTranspose', true),
    quantileNorm: bool('enableQuantileNorm', false),
    cropPadding: bool('enableCrop', false)
      ? (number('cropPadding', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer') ?? 0)
      : undefined,
    autoThreshold: threshold ? threshold : undefined,
    largestComponent: bool('isPostProcessEnable', true),
  };
}

/** (x − q5) / (q95 − q5) with brainchop's quantiles: sorted[⌊0.05 n⌋] and sorted[⌈0.95 n⌉ − 1]. */
function quantileNormalize(data: ArrayLike<number>): Float32Array {
  const sorted = Float32Array.from(data).sort();
  const low = sorted[Math.floor(sorted.length * 0.05)]!;
  const high = sorted[Math.ceil(sorted.length * 0.95) - 1]!;
  return Float32Array.from(data, (v) => (v - low) / (high - low));
}

export interface BrainchopSegmentation {
  /** Class indices on the scan's grid (uint8, or uint16 beyond 256 classes). */
  labels: Volume;
  classes: number;
}

/** data [a][b][c] (c fastest) → [c][b][a]: a 3-D tensor's transpose(), as brainchop calls it. */
export function reverseAxes<T extends Float32Array | Uint16Array>(data: T, [a, b, c]: readonly number[]): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let i = 0; i < a!; i++)
    for (let j = 0; j < b!; j++) for (let k = 0; k < c!; k++) out[(k * b! + j) * a! + i] = data[(i * b! + j) * c! + k]!;
  return out;
}

/** The bounding box [start, size] of voxels above `threshold`, grown by `padding` and clipped to the volume. */
function paddedBox(data: ArrayLike<number>, [nx, ny, nz]: Vec3, padding: number, threshold: number): { start: Vec3; size: Vec3 } | null {
  const lo = [nx, ny, nz];
  const hi = [-1, -1, -1];
  for (let k = 0, v = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, v++) {
        if (!(data[v]! > threshold)) continue;
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
export async function segmentBrainchop(
  model: TfjsModel,
  scan: Volume,
  options: BrainchopSegmentOptions = {},
): Promise<BrainchopSegmentation> {
  if (model.inChannels !== 1)
    throw new Error(`segmentBrainchop: the model takes ${model.inChannels} channels; brainchop's take one (a T1 scan)`);
  const values = options.quantileNorm ? quantileNormalize(scan.data) : rescaleIntensity(scan.data);
  const normalized: Volume = { ...cloneGrid(scan), data: values };
  // brainchop's applyMriThreshold: above a fraction of the normalised maximum.
  const threshold = options.autoThreshold ? options.autoThreshold * values.reduce((m, v) => Math.max(m, v), -Infinity) : 0;
  const { cropMask } = options;
  if (cropMask && cropMask.length !== values.length)
    throw new Error(`segmentBrainchop: cropMask has ${cropMask.length} voxels, the scan [${scan.shape.join(', ')}] has ${values.length}`);
  const box =
    options.cropPadding === undefined
      ? null
      : cropMask
        ? paddedBox(cropMask, scan.shape, options.cropPadding, 0)
        : paddedBox(values, scan.shape, options.cropPadding, threshold);
  const input = box ? cropOrPad(normalized, box.size, box.start) : normalized;
  // A volume's flat order is [z][y][x]; brainchop's transpose gives the model [x][y][z].
  const [nx, ny, nz] = input.shape;
  const transpose = options.transpose ?? true;
  const zyx = [nz, ny, nx];
  const data = transpose ? reverseAxes(input.data as Float32Array, zyx) : (input.data as Float32Array);
  const { labels, shape } = await predictVolume(model, data, transpose ? [nx, ny, nz] : zyx, options);
  if (shape.some((s, a) => s !== (transpose ? [nx, ny, nz] : zyx)[a]))
    throw new Error(`segmentBrainchop: the model's output [${shape.join(', ')}] is not the size of its input ('valid' convs)`);
  const back = transpose ? reverseAxes(labels, [nx, ny, nz]) : labels;
  const classes = model.outChannels;
  const onGrid: Volume = { ...cloneGrid(input), data: classes <= 256 ? Uint8Array.from(back) : back };
  const placed = box ? cropOrPad(onGrid, scan.shape, box.start.map((s) => -s) as Vec3) : onGrid;
  if (options.largestComponent) {
    const keep = largestConnectedComponent(placed.data, scan.shape, 26);
    for (let v = 0; v < keep.length; v++) if (!keep[v]) placed.data[v] = 0;
  }
  return { labels: { ...placed, ...cloneGrid(scan), data: placed.data }, classes };
}
