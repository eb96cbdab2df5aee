// Float64 reference for permute: output coordinate c reads x at the coordinate whose dimension
// dims[i] is c[i].
export function permute(x: Float64Array, shape: readonly number[], dims: readonly number[]): { data: Float64Array; shape: number[] } {
  const outShape = dims.map((d) => shape[d]!);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, d) => a * d, 1));
  const out = new Float64Array(x.length);
  for (let i = 0; i < out.length; i++) {
    let rest = i;
    let at = 0;
    for (let k = outShape.length - 1; k >= 0; k--) {
      at += (rest % outShape[k]!) * strides[dims[k]!]!;
      rest = Math.floor(rest / outShape[k]!);
    }
    out[i] = x[at]!;
  }
  return { data: out, shape: outShape };
}
