// Float64 reference of NiiVue 0.62.0's conform() (packages/niivue/src/niivue/index.ts: conformVox2Vox, conform,
// getScale, scalecropUint8; nvimage calMinMax's central minimum), written the way NiiVue writes it: the scan's
// NIfTI (RAS) 4×4 affine, FreeSurfer's output affine, vox2vox = out⁻¹·A by a general 4×4 inverse, NiiVue's
// loops, but every matrix and sample in float64 (NiiVue: float32 matrices, a float32 sample image).
import type { Volume } from '../../src/image/volume.js';

type Mat4 = number[]; // row-major 4×4

/** The NIfTI RAS affine of a Volume (LPS): the first two world rows negated. */
export function rasAffine(v: Pick<Volume, 'spacing' | 'origin' | 'direction'>): Mat4 {
  const a: Mat4 = [];
  for (let r = 0; r < 3; r++) {
    const sign = r < 2 ? -1 : 1;
    for (let c = 0; c < 3; c++) a.push(sign * v.direction[3 * r + c]! * v.spacing[c]!);
    a.push(sign * v.origin[r]!);
  }
  return [...a, 0, 0, 0, 1];
}

function mul4(a: Mat4, b: Mat4): Mat4 {
  const out = new Array<number>(16).fill(0);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (let k = 0; k < 4; k++) out[4 * r + c]! += a[4 * r + k]! * b[4 * k + c]!;
  return out;
}

/** Gauss–Jordan with partial pivoting. */
function inv4(m: Mat4): Mat4 {
  const a = [...m];
  const b = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  for (let c = 0; c < 4; c++) {
    let p = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(a[4 * r + c]!) > Math.abs(a[4 * p + c]!)) p = r;
    for (let k = 0; k < 4; k++) {
      [a[4 * c + k], a[4 * p + k]] = [a[4 * p + k]!, a[4 * c + k]!];
      [b[4 * c + k], b[4 * p + k]] = [b[4 * p + k]!, b[4 * c + k]!];
    }
    const d = a[5 * c]!;
    for (let k = 0; k < 4; k++) {
      a[4 * c + k]! /= d;
      b[4 * c + k]! /= d;
    }
    for (let r = 0; r < 4; r++) {
      if (r === c) continue;
      const f = a[4 * r + c]!;
      for (let k = 0; k < 4; k++) {
        a[4 * r + k]! -= f * a[4 * c + k]!;
        b[4 * r + k]! -= f * b[4 * c + k]!;
      }
    }
  }
  return b;
}

/** FreeSurfer's conformed affine (RAS, row-major) for a scan: LIA, c_ras at voxel dims/2 of both. */
export function conformedAffine(scan: Volume, size = 256, mm = 1): Mat4 {
  const a = rasAffine(scan);
  const half = scan.shape.map((n) => n / 2);
  const centre = [0, 1, 2].map((r) => a[4 * r]! * half[0]! + a[4 * r + 1]! * half[1]! + a[4 * r + 2]! * half[2]! + a[4 * r + 3]!);
  const mdc = [-1, 0, 0, 0, 0, 1, 0, -1, 0]; // rows of NiiVue's transposed Mdc: columns L, I, A
  const out: Mat4 = [];
  for (let r = 0; r < 3; r++) {
    const row = [0, 1, 2].map((c) => mdc[3 * r + c]! * mm);
    out.push(...row, centre[r]! - (row[0]! + row[1]! + row[2]!) * (size / 2));
  }
  return [...out, 0, 0, 0, 1];
}

export interface ConformReference {
  affine: Mat4;
  /** Float64 samples (NiiVue's out_img, 0 outside, NaN where NiiVue reads past the array). */
  samples: Float64Array;
  /** The scaled value before truncation to uint8: clip(scale · (sample − min), 0, 255), NaN kept. */
  scaled: Float64Array;
}

export function conformReference(scan: Volume, { size = 256, mm = 1, linear = true } = {}): ConformReference {
  const affine = conformedAffine(scan, size, mm);
  const m = inv4(mul4(inv4(affine), rasAffine(scan))); // NiiVue's inv_vox2vox: the inverse of vox2vox = out⁻¹·A
  const [dx, dy] = scan.shape;
  const at = (i: number) => (i < scan.data.length ? scan.data[i]! : Number.NaN);
  const samples = new Float64Array(size ** 3);
  for (let z = 0, o = 0; z < size; z++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++, o++) {
        const p = [0, 1, 2].map((r) => m[4 * r]! * x + m[4 * r + 1]! * y + m[4 * r + 2]! * z + m[4 * r + 3]!);
        if (!linear) {
          const q = p.map(Math.round);
          if (q.some((v, a) => v < 0 || v >= scan.shape[a]!)) continue;
          samples[o] = at(q[0]! + dx * (q[1]! + dy * q[2]!));
          continue;
        }
        const f = p.map(Math.floor);
        if (f.some((v) => v < 0) || p.some((v, a) => Math.ceil(v) >= scan.shape[a]!)) continue;
        let sum = 0;
        for (let cz = 0; cz < 2; cz++)
          for (let cy = 0; cy < 2; cy++)
            for (let cx = 0; cx < 2; cx++) {
              const w = [cx, cy, cz].map((c, a) => (c ? p[a]! - f[a]! : 1 - (p[a]! - f[a]!)));
              sum += at(f[0]! + cx + dx * (f[1]! + cy) + dx * dy * (f[2]! + cz)) * w[0]! * w[1]! * w[2]!;
            }
        samples[o] = sum;
      }
  // Intensity: NiiVue's global_min/max over the central half, then its uint8 or histogram rule.
  const lo = scan.shape.map((n) => Math.floor(n / 4));
  let min = Infinity;
  let max = -Infinity;
  for (let k = lo[2]!; k < scan.shape[2] - lo[2]!; k++)
    for (let j = lo[1]!; j < scan.shape[1] - lo[1]!; j++)
      for (let i = lo[0]!; i < scan.shape[0] - lo[0]!; i++) {
        const v = scan.data[i + dx * (j + dy * k)]!;
        if (!Number.isNaN(v)) [min, max] = [Math.min(min, v), Math.max(max, v)];
      }
  let scale = 1;
  if (!(scan.data instanceof Uint8Array || scan.storedType === 'uint8')) {
    const hist = new Array<number>(1000).fill(0);
    const bin = (max - min) / 1000;
    let nz = 0;
    for (const v of scan.data) {
      if (Math.abs(v) >= 1e-15) nz++;
      const b = Math.min(Math.floor((v - min) / bin), 999);
      if (b >= 0) hist[b]!++;
    }
    const nth = scan.data.length - Math.floor((1 - 0.999) * nz);
    let cs = hist[0]!;
    let idx = 0;
    while (idx < 999) {
      cs += hist[idx + 1]!;
      if (cs >= nth) break;
      idx++;
    }
    const srcMax = idx * bin + min;
    if (srcMax !== min) scale = 255 / (srcMax - min);
  }
  const scaled = samples.map((s) => (Number.isNaN(s) ? s : Math.min(Math.max(scale * (s - min), 0), 255)));
  return { affine, samples, scaled };
}
