// Float64 reference for maxPool3d over x [N, C, D, H, W]: each window's largest value (floor mode,
// −∞ padding).
export function maxPool3d(
  x: Float64Array,
  shape: readonly number[],
  kernel: readonly number[],
  stride: readonly number[],
  padding: readonly number[],
): { data: Float64Array; shape: number[] } {
  const [n, c, ...size] = shape as [number, number, number, number, number];
  const outSize = size.map((d, i) => Math.floor((d + 2 * padding[i]! - kernel[i]!) / stride[i]!) + 1);
  const [od, oh, ow] = outSize as [number, number, number];
  const [d, h, w] = size as [number, number, number];
  const out = new Float64Array(n * c * od * oh * ow);
  let t = 0;
  for (let plane = 0; plane < n * c; plane++) {
    for (let z = 0; z < od; z++) {
      for (let y = 0; y < oh; y++) {
        for (let q = 0; q < ow; q++) {
          let best = -Infinity;
          for (let a = 0; a < kernel[0]!; a++) {
            for (let b = 0; b < kernel[1]!; b++) {
              for (let e = 0; e < kernel[2]!; e++) {
                const [zi, yi, xi] = [z * stride[0]! - padding[0]! + a, y * stride[1]! - padding[1]! + b, q * stride[2]! - padding[2]! + e];
                if (zi >= 0 && zi < d && yi >= 0 && yi < h && xi >= 0 && xi < w)
                  best = Math.max(best, x[((plane * d + zi) * h + yi) * w + xi]!);
              }
            }
          }
          out[t++] = best;
        }
      }
    }
  }
  return { data: out, shape: [n, c, ...outSize] };
}
