// Index of the largest value along one axis (the first one on ties, as PyTorch), x seen as
// [outer, length, inner], one invocation per (outer, inner) line. The index is written as a float:
// exact for lengths up to 2^24.
struct Params {
  lines: u32,
  length: u32,
  inner: u32,
  _pad: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn argmax(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.lines) { return; }
  var i = (t / p.inner) * p.length * p.inner + t % p.inner;
  var best = x[i];
  var index = 0u;
  for (var k = 1u; k < p.length; k++) {
    i += p.inner;
    if (x[i] > best) {
      best = x[i];
      index = k;
    }
  }
  out[t] = f32(index);
}
