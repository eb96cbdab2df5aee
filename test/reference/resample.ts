// Float64 reference for interpolate() over x [N, C, D, H, W], voxel by voxel from PyTorch's rules:
// nearest reads source ⌊o · scale⌋; trilinear mixes the 2×2×2 neighbours of source coordinate
// scale·(o + ½) − ½ (clamped at 0), or o·(in − 1)/(out − 1) with aligned corners. `scale` is in/out,
// or 1/scaleFactor when a factor is given, rounded to float32 as PyTorch holds it.
export interface InterpolateCase {
  shape: number[];
  outSize: number[];
  scaleFactor?: number[];
  mode: 'nearest' | 'trilinear';
  alignCorners?: boolean;
}

/** Per output index along one axis: [source index, weight] pairs. */
function axisWeights(c: InterpolateCase, a: number): [number, number][][] {
  const [n, m] = [c.shape[2 + a]!, c.outSize[a]!];
  const scale = Math.fround(c.scaleFactor ? 1 / c.scaleFactor[a]! : n / m);
  return Array.from({ length: m }, (_, o) => {
    if (c.mode === 'nearest') return [[Math.min(Math.floor(o * scale), n - 1), 1]];
    const s = c.alignCorners ? (m > 1 ? (o * (n - 1)) / (m - 1) : 0) : Math.max(scale * (o + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(s), n - 1);
    const i1 = Math.min(i0 + 1, n - 1);
    const w = Math.min(s, n - 1) - i0;
    return [
      [i0, 1 - w],
      [i1, w],
    ];
  });
}

export function interpolate(x: Float64Array, c: InterpolateCase): { data: Float64Array; shape: number[] } {
  const [n, ch, d, h, w] = c.shape as [number, number, number, number, number];
  const [od, oh, ow] = c.outSize as [number, number, number];
  const [wd, wh, ww] = [0, 1, 2].map((a) => axisWeights(c, a)) as [[number, number][][], [number, number][][], [number, number][][]];
  const out = new Float64Array(n * ch * od * oh * ow);
  let t = 0;
  for (let plane = 0; plane < n * ch; plane++)
    for (let z = 0; z < od; z++)
      for (let y = 0; y < oh; y++)
        for (let q = 0; q < ow; q++) {
          let v = 0;
          for (const [zi, a] of wd[z]!)
            for (const [yi, b] of wh[y]!) for (const [xi, e] of ww[q]!) v += a * b * e * x[((plane * d + zi) * h + yi) * w + xi]!;
          out[t++] = v;
        }
  return { data: out, shape: [n, ch, od, oh, ow] };
}
