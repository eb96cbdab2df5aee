// softmax and log-softmax along one axis, x seen as [outer, length, inner]: each invocation owns one
// (outer, inner) line (in NCDHW along channels: one voxel) and walks its `length` values `inner`
// apart, so neighbouring invocations read neighbouring addresses. Max-subtracted, so large logits
// cannot overflow exp().
struct Params {
  lines: u32,
  length: u32,
  inner: u32,
  _pad: u32,
}

// 0 softmax, 1 log-softmax.
override LOG: u32 = 0u;
override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn lineStart(t: u32) -> u32 {
  return (t / p.inner) * p.length * p.inner + t % p.inner;
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.lines) { return; }
  let base = lineStart(t);
  let end = base + p.length * p.inner;
  var m = x[base];
  for (var i = base + p.inner; i < end; i += p.inner) { m = max(m, x[i]); }
  var total = 0.0;
  for (var i = base; i < end; i += p.inner) { total += exp(x[i] - m); }
  if (LOG == 1u) {
    let shift = m + log(total);
    for (var i = base; i < end; i += p.inner) { out[i] = x[i] - shift; }
  } else {
    let inv = 1.0 / total;
    for (var i = base; i < end; i += p.inner) { out[i] = exp(x[i] - m) * inv; }
  }
}

// From the forward output y and the upstream gradient g:
// softmax: y ⊙ (g − Σ g·y); log-softmax: g − exp(y) · Σ g.
@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.lines) { return; }
  let base = lineStart(t);
  let end = base + p.length * p.inner;
  var total = 0.0;
  for (var i = base; i < end; i += p.inner) {
    total += select(g[i] * y[i], g[i], LOG == 1u);
  }
  for (var i = base; i < end; i += p.inner) {
    out[i] = select(y[i] * (g[i] - total), g[i] - exp(y[i]) * total, LOG == 1u);
  }
}
