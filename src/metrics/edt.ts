/**
 * Exact Euclidean distance transform with anisotropic voxel spacing (Felzenszwalb & Huttenlocher, "Distance
 * Transforms of Sampled Functions", 2012): the squared distance separates into three 1-D lower envelopes of
 * parabolas, one pass per axis, O(n) each. Exact, unlike chamfer approximations, which matters for Hausdorff
 * distances reported in millimetres.
 */
import type { Vec3 } from '../image/volume.js';
import type { Mask } from './mask.js';

/**
 * Distance in mm from every voxel to the nearest non-zero voxel of `mask` (0 on the mask itself); all
 * Infinity when the mask is empty.
 */
export function distanceTransform(mask: Mask, shape: Vec3, spacing: Vec3): Float64Array {
  const [nx, ny, nz] = shape;
  const squared = new Float64Array(nx * ny * nz);
  for (let i = 0; i < squared.length; i++) squared[i] = mask[i] !== 0 ? 0 : Infinity;
  const longest = Math.max(nx, ny, nz);
  const scratch = {
    line: new Float64Array(longest),
    out: new Float64Array(longest),
    v: new Int32Array(longest),
    z: new Float64Array(longest + 1),
  };
  const strides = [1, nx, nx * ny];
  for (let axis = 0; axis < 3; axis++) {
    const n = shape[axis];
    const stride = strides[axis];
    // One line per position on the other two axes; it starts where this axis' coordinate is 0.
    for (let line = 0; line < squared.length / n; line++) {
      const start = (line % stride) + Math.floor(line / stride) * stride * n;
      for (let q = 0; q < n; q++) scratch.line[q] = squared[start + q * stride];
      lowerEnvelope(scratch, n, spacing[axis]);
      for (let q = 0; q < n; q++) squared[start + q * stride] = scratch.out[q];
    }
  }
  for (let i = 0; i < squared.length; i++) squared[i] = Math.sqrt(squared[i]);
  return squared;
}

/** out[p] = min_q line[q] + (w·(p − q))², over the finite samples q (all Infinity if there are none). */
function lowerEnvelope(s: { line: Float64Array; out: Float64Array; v: Int32Array; z: Float64Array }, n: number, w: number): void {
  const { line: f, out, v, z } = s;
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    const fq = f[q] + (w * q) ** 2;
    let boundary = -Infinity;
    while (k >= 0) {
      const p = v[k];
      // Where the parabola from q overtakes the one from p (positions in mm).
      boundary = (fq - (f[p] + (w * p) ** 2)) / (2 * w * (q - p));
      if (boundary > z[k]) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = k === 0 ? -Infinity : boundary;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    out.fill(Infinity, 0, n);
    return;
  }
  for (let q = 0, j = 0; q < n; q++) {
    while (z[j + 1] < w * q) j++;
    out[q] = (w * (q - v[j])) ** 2 + f[v[j]];
  }
}
