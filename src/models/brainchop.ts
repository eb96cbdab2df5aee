// brainchop's inference around an imported MeshNet (its inference-logic.js, commit 4c87885):
// min–max normalisation to [0, 1], an optional crop to the bounding box of the voxels above the
// minimum with padding, the volume transposed (all of brainchop's models set enableTranspose), the
// model over the whole volume, the argmax, and everything undone so the labels lie on the scan's grid.
// Conforming the scan to 256³ at 1 mm, and brainchop's per-model settings and post-processing, are
// not here: the scan is taken on its own grid.
import { cropOrPad } from '../data/crop.js';
import { rescaleIntensity } from '../data/intensity.js';
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

/** The bounding box [start, size] of voxels above 0, grown by `padding` and clipped to the volume. */
function paddedBox(data: Float32Array, [nx, ny, nz]: Vec3, padding: number): { start: Vec3; size: Vec3 } | null {
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
  const normalized: Volume = { ...cloneGrid(scan), data: rescaleIntensity(scan.data) };
  const box = options.cropPadding === undefined ? null : paddedBox(normalized.data as Float32Array, scan.shape, options.cropPadding);
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
