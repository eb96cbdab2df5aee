/**
 * Synthetic training cases that look enough like prostate MRI to exercise a V-Net without real data: a
 * smoothly deformed ellipsoid "organ" covering a small fraction of the volume (2–8% by default), on a
 * textured background, with distractor blobs of similar but different brightness, a smooth multiplicative
 * bias field (like an uncorrected MRI coil) and Gaussian noise. The organ is not the brightest thing and the
 * bias shifts every intensity, so a single threshold cannot segment it: the network has to use shape and
 * context.
 *
 * Layout: `shape` is the tensor's `[D, H, W]`; the arrays are in the matching flat order (W fastest), i.e. a
 * `[1, 1, D, H, W]` tensor or a Volume of shape `[W, H, D]`. Intensities are around 0–1 before noise.
 */
import { Rng } from './random.js';

export interface SyntheticOptions {
  /** Range of the organ's share of all voxels; default [0.02, 0.08]. */
  foregroundFraction?: [number, number];
  /** Range of the number of distractor blobs; default [2, 4]. */
  distractors?: [number, number];
  /** Standard deviation of the additive Gaussian noise; default 0.05. */
  noise?: number;
  /** Largest amplitude of the log bias field per axis; default 0.15 (about ±40% over the volume). */
  bias?: number;
}

export interface SyntheticCase {
  image: Float32Array;
  label: Uint8Array;
}

type Vec = [number, number, number];

/** A rotated ellipsoid whose radius wobbles with direction (a few low-order angular waves). */
interface Blob {
  centre: Vec;
  radii: Vec;
  /** Rows: the blob's own axes in voxel coordinates. */
  rotation: number[];
  waves: { k: Vec; phase: number; amplitude: number }[];
  intensity: number;
}

export function syntheticCase(seed: number, shape: [number, number, number], options: SyntheticOptions = {}): SyntheticCase {
  const { foregroundFraction = [0.02, 0.08], distractors = [2, 4], noise = 0.05, bias = 0.15 } = options;
  const [nz, ny, nx] = shape;
  const dims: Vec = [nx, ny, nz];
  const rng = new Rng(seed);
  const image = new Float32Array(nx * ny * nz);
  const label = new Uint8Array(nx * ny * nz);

  paintBackground(image, dims, rng);
  const fraction = rng.uniform(foregroundFraction[0], foregroundFraction[1]);
  const organIntensity = rng.uniform(0.55, 0.7);
  const organ = randomBlob(rng, dims, fraction * nx * ny * nz, organIntensity);
  const count = rng.int(distractors[0], distractors[1] + 1);
  for (let placed = 0, tries = 0; placed < count && tries < 40; tries++) {
    // Alternately brighter and darker than the organ by 0.08–0.2, so that neither a lower nor an upper
    // threshold isolates it.
    const intensity = organIntensity + (placed % 2 === 0 ? 1 : -1) * rng.uniform(0.08, 0.2);
    const blob = randomBlob(rng, dims, rng.uniform(0.3, 0.9) * fraction * nx * ny * nz, intensity);
    if (distance(blob.centre, organ.centre) < 1.1 * (Math.max(...blob.radii) + Math.max(...organ.radii))) continue;
    paintBlob(image, undefined, dims, blob);
    placed++;
  }
  paintBlob(image, label, dims, organ);
  applyBiasAndNoise(image, dims, rng, bias, noise);
  return { image, label };
}

function distance(a: Vec, b: Vec): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

function randomBlob(rng: Rng, dims: Vec, voxels: number, intensity: number): Blob {
  const aspect: Vec = [1, rng.uniform(0.7, 1.3), rng.uniform(0.6, 1.0)];
  const scale = Math.cbrt(voxels / ((4 / 3) * Math.PI * aspect[0] * aspect[1] * aspect[2]));
  const radii = aspect.map((a) => a * scale) as Vec;
  const rotation = randomRotation(rng);
  const centre = dims.map((n, axis) => {
    // Half-extent of the rotated ellipsoid along this axis, so the blob stays (mostly) inside.
    const extent = Math.hypot(...radii.map((r, i) => rotation[3 * i + axis] * r));
    const low = Math.min(extent + 1, n / 2);
    return rng.uniform(low, n - low);
  }) as Vec;
  const waves = Array.from({ length: 3 }, () => ({
    k: [rng.normal(0, 2), rng.normal(0, 2), rng.normal(0, 2)] as Vec,
    phase: rng.uniform(0, 2 * Math.PI),
    amplitude: rng.uniform(0, 0.08),
  }));
  return { centre, radii, rotation, waves, intensity };
}

/** Rows of R = Rz(a) · Ry(b) · Rx(c) for uniform random angles. */
function randomRotation(rng: Rng): number[] {
  const [a, b, c] = [rng.uniform(0, 2 * Math.PI), rng.uniform(-Math.PI / 2, Math.PI / 2), rng.uniform(0, 2 * Math.PI)];
  const [ca, sa, cb, sb, cc, sc] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b), Math.cos(c), Math.sin(c)];
  return [
    ca * cb,
    ca * sb * sc - sa * cc,
    ca * sb * cc + sa * sc,
    sa * cb,
    sa * sb * sc + ca * cc,
    sa * sb * cc - ca * sc,
    -sb,
    cb * sc,
    cb * cc,
  ];
}

/**
 * Blends the blob into `image` with a soft one-voxel edge (partial volume); where `label` is given, marks
 * the voxels inside the blob's surface. Only the blob's bounding box is visited, which keeps generation fast.
 */
function paintBlob(image: Float32Array, label: Uint8Array | undefined, dims: Vec, blob: Blob): void {
  const [nx, ny] = dims;
  const { centre: c, radii: r, rotation: R, waves, intensity } = blob;
  const reach = 1.3 * Math.max(...r) + 2;
  const lo = c.map((v) => Math.max(0, Math.floor(v - reach)));
  const hi = c.map((v, a) => Math.min(dims[a] - 1, Math.ceil(v + reach)));
  const edge = 0.7 / Math.min(...r); // ≈ one voxel, in units of the normalised radius
  for (let z = lo[2]; z <= hi[2]; z++) {
    for (let y = lo[1]; y <= hi[1]; y++) {
      for (let x = lo[0]; x <= hi[0]; x++) {
        const [dx, dy, dz] = [x - c[0], y - c[1], z - c[2]];
        const u = (R[0] * dx + R[3] * dy + R[6] * dz) / r[0];
        const v = (R[1] * dx + R[4] * dy + R[7] * dz) / r[1];
        const w = (R[2] * dx + R[5] * dy + R[8] * dz) / r[2];
        const rho = Math.sqrt(u * u + v * v + w * w);
        let wobble = 1;
        if (rho > 0)
          for (const wave of waves) wobble += wave.amplitude * Math.sin((wave.k[0] * u + wave.k[1] * v + wave.k[2] * w) / rho + wave.phase);
        const depth = 1 - rho / wobble; // > 0 inside
        if (depth < -3 * edge) continue;
        const i = x + nx * (y + ny * z);
        const membership = depth > 6 * edge ? 1 : 1 / (1 + Math.exp(-depth / edge));
        image[i] = image[i] * (1 - membership) + intensity * membership;
        if (label && depth > 0) label[i] = 1;
      }
    }
  }
}

/** Soft tissue around 0.3–0.4 with gentle separable texture. */
function paintBackground(image: Float32Array, dims: Vec, rng: Rng): void {
  const [nx, ny, nz] = dims;
  const base = rng.uniform(0.3, 0.4);
  const [tx, ty, tz] = dims.map((n) => smoothProfile(n, rng, 0.04, 3));
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) image[i] = base + tx[x] + ty[y] + tz[z];
}

/** A random sum of low-frequency sines along one axis: `cycles` at most over the axis, amplitude ≤ `amplitude`. */
function smoothProfile(n: number, rng: Rng, amplitude: number, cycles: number): Float64Array {
  const terms = Array.from({ length: 2 }, () => ({
    f: rng.uniform(0.5, cycles),
    phase: rng.uniform(0, 2 * Math.PI),
    a: rng.uniform(0, amplitude),
  }));
  return Float64Array.from({ length: n }, (_, t) =>
    terms.reduce((s, { f, phase, a }) => s + a * Math.sin((2 * Math.PI * f * t) / n + phase), 0),
  );
}

function applyBiasAndNoise(image: Float32Array, dims: Vec, rng: Rng, bias: number, noise: number): void {
  const [nx, ny, nz] = dims;
  // exp of a separable sum = a product of three 1-D factors: smooth, positive, and no 3-D field to compute.
  const [bx, by, bz] = dims.map((n) => smoothProfile(n, rng, bias, 1).map(Math.exp));
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const plane = by[y] * bz[z];
      for (let x = 0; x < nx; x++, i++) image[i] = image[i] * bx[x] * plane + rng.normal(0, noise);
    }
  }
}
