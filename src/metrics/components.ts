/** Connected components, for the usual post-processing of a segmentation: drop every island but the largest. */
import type { Vec3 } from '../image/volume.js';
import type { Mask } from './mask.js';

export type Connectivity = 6 | 26;

/**
 * A mask holding only the largest connected foreground component of `mask` (1 there, 0 elsewhere). Ties go to
 * the component met first in memory order; an empty mask gives an empty mask. 26-connectivity (faces, edges
 * and corners) is the default, as in scipy's and ITK's usual post-processing of organ masks.
 */
export function largestConnectedComponent(mask: Mask, shape: Vec3, connectivity: Connectivity = 26): Uint8Array {
  const [nx, ny, nz] = shape;
  const n = nx * ny * nz;
  if (mask.length !== n) throw new Error(`mask of ${mask.length} voxels does not fit shape [${shape}]`);
  const offsets: Vec3[] = [];
  for (let dz = -1; dz <= 1; dz++) {
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const steps = Math.abs(dx) + Math.abs(dy) + Math.abs(dz);
        if (steps > 0 && (connectivity === 26 || steps === 1)) offsets.push([dx, dy, dz]);
      }
    }
  }
  const label = new Int32Array(n); // 0: unvisited or background
  const queue = new Int32Array(n);
  let best = 0;
  let bestSize = 0;
  let next = 0;
  for (let seed = 0; seed < n; seed++) {
    if (mask[seed] === 0 || label[seed] !== 0) continue;
    const id = ++next;
    label[seed] = id;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const i = queue[head++];
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      const z = Math.floor(i / (nx * ny));
      for (const [dx, dy, dz] of offsets) {
        const [a, b, c] = [x + dx, y + dy, z + dz];
        if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
        const j = a + nx * (b + ny * c);
        if (mask[j] !== 0 && label[j] === 0) {
          label[j] = id;
          queue[tail++] = j;
        }
      }
    }
    if (tail > bestSize) [best, bestSize] = [id, tail];
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (label[i] === best && best !== 0) out[i] = 1;
  return out;
}
