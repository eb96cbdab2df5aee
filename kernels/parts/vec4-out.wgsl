// One vec4 of `out` per invocation over n elements (the kernel declares `p.n` and
// `out: array<vec4<f32>>`): lanes(k) is how many elements vec4 k holds (4, fewer for the array's
// last, partial vec4, 0 past the end), and store() writes a partial vec4 lane by lane, which is
// safe because only its own invocation touches it.
fn lanes(k: u32) -> u32 {
  return select(min(4u, p.n - 4u * k), 0u, 4u * k >= p.n);
}

fn store(k: u32, count: u32, v: vec4<f32>) {
  if (count == 4u) {
    out[k] = v;
    return;
  }
  for (var q = 0u; q < count; q++) { out[k][q] = v[q]; }
}
