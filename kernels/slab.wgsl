// Copies between a tensor and a slab of a larger one along one axis: concat writes each input into
// its slab of the output; narrow (and concat's backward) reads a slab back out. Seen as
// [outer, length] (small) inside [outer, bigStride] (big), starting at `offset` in each row.
struct Params {
  n: u32,
  length: u32,
  bigStride: u32,
  offset: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn bigIndex(i: u32) -> u32 {
  return (i / p.length) * p.bigStride + p.offset + i % p.length;
}

@compute @workgroup_size(WG)
fn insert(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  dst[bigIndex(i)] = src[i];
}

@compute @workgroup_size(WG)
fn extract(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  dst[i] = src[bigIndex(i)];
}
