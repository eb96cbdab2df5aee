// PReLU, out = x > 0 ? x : alpha[c]·x, with one slope per channel (dimension 1) or one shared slope.
// x is seen as [outer, channels, inner]; a shared slope is channels = 1.
struct Params {
  n: u32,
  channels: u32,
  inner: u32,
  _pad: u32,
}

// The slope gradient Σ g·x over x ≤ 0, per channel, split into chunks (src/ops/row-sums.ts): row =
// channel, its items are the outer × inner elements of that channel.
struct SlopeParams {
  rows: u32,
  rowLength: u32,
  chunks: u32,
  channels: u32,
  inner: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> alpha: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;
@group(0) @binding(6) var<uniform> s: SlopeParams;

fn slope(i: u32) -> f32 {
  return alpha[(i / p.inner) % p.channels];
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let v = x[i];
  out[i] = select(slope(i) * v, v, v > 0.0);
}

// Gradient for x: g where x > 0, alpha·g elsewhere.
@compute @workgroup_size(WG)
fn backwardInput(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  out[i] = select(slope(i) * g[i], g[i], x[i] > 0.0);
}

@compute @workgroup_size(WG)
fn backwardAlpha(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= s.rows * s.chunks) { return; }
  let c = t / s.chunks;
  var acc = 0.0;
  for (var j = t % s.chunks; j < s.rowLength; j += s.chunks) {
    let i = ((j / s.inner) * s.channels + c) * s.inner + j % s.inner;
    acc += select(g[i] * x[i], 0.0, x[i] > 0.0);
  }
  partials[t] = acc;
}
