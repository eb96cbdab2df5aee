/**
 * Centre crop / zero pad to the network's input size (the paper: 128 × 128 × 64), and the exact inverse to put
 * a prediction back. The origin moves with the crop, so a cropped volume still lies where it did in the world.
 */
import { allocateVoxels, cloneGrid, indexToWorld, voxelTypeOf, type Vec3, type Volume } from '../image/volume.js';

/** out[i, j, k] = volume[i + start[0], j + start[1], k + start[2]], or `fill` where that is outside. */
export function cropOrPad(volume: Volume, shape: Vec3, start: Vec3, fill = 0): Volume {
  const [nx, ny, nz] = shape;
  const [sx, sy, sz] = volume.shape;
  const data = allocateVoxels(voxelTypeOf(volume.data), nx * ny * nz);
  if (fill !== 0) data.fill(fill);
  // Copy whole x-runs of the overlap at once.
  const x0 = Math.max(0, -start[0]);
  const x1 = Math.min(nx, sx - start[0]);
  for (let k = 0; k < nz; k++) {
    const z = k + start[2];
    if (z < 0 || z >= sz) continue;
    for (let j = 0; j < ny; j++) {
      const y = j + start[1];
      if (y < 0 || y >= sy || x1 <= x0) continue;
      const from = x0 + start[0] + sx * (y + sy * z);
      data.set(volume.data.subarray(from, from + x1 - x0), x0 + nx * (j + ny * k));
    }
  }
  return { ...cloneGrid(volume), data, shape: [...shape], origin: indexToWorld(volume, start) };
}

function centerStart(from: Vec3, to: Vec3): Vec3 {
  return from.map((n, a) => Math.floor((n - to[a]) / 2)) as Vec3;
}

export function centerCropOrPad(volume: Volume, shape: Vec3, fill = 0): Volume {
  return cropOrPad(volume, shape, centerStart(volume.shape, shape), fill);
}

/** Undoes centerCropOrPad(original, volume.shape): back to `originalShape`, voxels where they came from. */
export function undoCenterCropOrPad(volume: Volume, originalShape: Vec3, fill = 0): Volume {
  return cropOrPad(volume, originalShape, centerStart(originalShape, volume.shape).map((s) => -s) as Vec3, fill);
}
