// Copies between a tensor and a slab of a larger one along one axis: concat writes each input into
// its slab of the output; narrow (and concat's backward) reads a slab back out. Seen as
// [outer, length] (small) inside [outer, bigStride] (big), starting at `offset` in each row.
// insert4/extract4 copy vec4s when all three are multiples of 4 (V-Net's channel concat): the row is
// the workgroup row (ctx.planeGrid, src/device/context.ts), so no index is divided; their params are in vec4s
// and n is the row count.
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

@group(0) @binding(3) var<storage, read> src4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dst4: array<vec4<f32>>;

// vec4 j of a row: its index in the small tensor (x) and in the big one (y); none past the end.
fn rowItem(lid: u32, wid: vec3<u32>, nwg: vec3<u32>) -> vec3<u32> {
  let row = wid.y + wid.z * nwg.y;
  let j = wid.x * WG + lid;
  return vec3<u32>(row * p.length + j, row * p.bigStride + p.offset + j, u32(row < p.n && j < p.length));
}

@compute @workgroup_size(WG)
fn insert4(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let at = rowItem(lid, wid, nwg);
  if (at.z == 1u) { dst4[at.y] = src4[at.x]; }
}

@compute @workgroup_size(WG)
fn extract4(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let at = rowItem(lid, wid, nwg);
  if (at.z == 1u) { dst4[at.x] = src4[at.y]; }
}
