// PReLU, out = s > 0 ? s : alpha[c]·s, with one slope per channel (dimension 1) or one shared slope,
// where s = x, or s = x + residual for the fused residual stage end (RESIDUAL, src/ops/add-prelu.ts).
// One vec4 per invocation: on llvmpipe a vec4 load costs what a scalar one does.
//
// Two layouts (src/ops/prelu.ts picks one):
// - planar (forward, backward): x is a list of planes of `inner` elements, one slope each
//   (per-channel: plane = sample · channels + channel; shared: fixed-size chunks of the flat array).
//   The plane is on workgroup axes y/z (ctx.planeGrid, src/device/context.ts), so the slope index comes from
//   the workgroup id, not from dividing every element index. Needs planes that start on a vec4
//   (inner % 4 == 0, or a single slope); the last vec4 of the array may be partial.
// - flat (forwardFlat, backwardFlat, backwardAlpha): per-channel slopes with inner % 4 != 0 (planes
//   that straddle vec4s): a 1-D grid over vec4s, the slope of each lane from its element index.
struct Params {
  n: u32,
  channels: u32,
  inner: u32,
  planes: u32,
}

// Flat layout's slope gradient Σ g·s over s ≤ 0, per channel, split into chunks (src/ops/row-sums.ts):
// row = channel, its items are the outer × inner elements of that channel.
struct SlopeParams {
  rows: u32,
  rowLength: u32,
  chunks: u32,
  channels: u32,
  inner: u32,
}

override RESIDUAL: bool = false;
override WG: u32 = 256u;
// vec4s per invocation in the backward kernels: fewer slope partial sums to add afterwards.
const VPI = 4u;

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
// Plain prelu leaves it unread (RESIDUAL off): a placeholder is bound (src/device/context.ts).
@group(0) @binding(1) var<storage, read> residual: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> alpha: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;
@group(0) @binding(7) var<uniform> s: SlopeParams;

// One vec4 of work: its index, how many of its lanes are elements (4, or fewer at the array's end;
// 0: none) and the slope of each lane.
struct Item {
  k: u32,
  count: u32,
  slope: vec4<f32>,
}

fn input(k: u32) -> vec4<f32> {
  if (RESIDUAL) { return x[k] + residual[k]; }
  return x[k];
}

fn lanes(k: u32) -> u32 {
  return select(min(4u, p.n - 4u * k), 0u, 4u * k >= p.n);
}

// Vec4 j of a plane (planar layout); plane ≥ planes (the y/z split's overshoot) is empty.
fn planarItem(wid: vec3<u32>, nwg: vec3<u32>, j: u32) -> Item {
  let plane = wid.y + wid.z * nwg.y;
  let k = plane * (p.inner / 4u) + j;
  let count = select(0u, lanes(k), plane < p.planes && 4u * j < p.inner);
  return Item(k, count, vec4<f32>(alpha[plane % p.channels]));
}

// Vec4 k of the flat layout (workgroups along x, then y as overflow rows).
fn flatItem(k: u32) -> Item {
  let e = 4u * k;
  let c = (vec4<u32>(e, e + 1u, e + 2u, e + 3u) / p.inner) % p.channels;
  return Item(k, lanes(k), vec4<f32>(alpha[c.x], alpha[c.y], alpha[c.z], alpha[c.w]));
}

// Invocation lid's r-th vec4 of workgroup (x, y) in a 1-D grid of `per` vec4s per invocation.
fn flatIndex(lid: u32, wid: vec3<u32>, nwg: vec3<u32>, r: u32, per: u32) -> u32 {
  return ((wid.x + wid.y * nwg.x) * per + r) * WG + lid;
}

fn store(it: Item, v: vec4<f32>) {
  if (it.count == 4u) {
    out[it.k] = v;
    return;
  }
  // Only this invocation touches the array's last, partial vec4.
  for (var q = 0u; q < it.count; q++) { out[it.k][q] = v[q]; }
}

fn activate(it: Item) {
  let v = input(it.k);
  store(it, select(it.slope * v, v, v > vec4<f32>(0.0)));
}

// Stores the gradient for s (g where s > 0, alpha·g elsewhere) and returns its lanes' share of the
// slope gradient, g·s where s ≤ 0.
fn gradient(it: Item) -> f32 {
  let v = input(it.k);
  let gv = g[it.k];
  let positive = v > vec4<f32>(0.0);
  store(it, select(it.slope * gv, gv, positive));
  let valid = vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(it.count);
  return dot(select(vec4<f32>(0.0), gv * v, valid & !positive), vec4<f32>(1.0));
}

@compute @workgroup_size(WG)
fn forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let it = planarItem(wid, nwg, wid.x * WG + lid);
  if (it.count > 0u) { activate(it); }
}

@compute @workgroup_size(WG)
fn forwardFlat(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let it = flatItem(flatIndex(lid, wid, nwg, 0u, 1u));
  if (it.count > 0u) { activate(it); }
}

// Gradient for s, and one partial slope gradient per invocation:
// partials[plane · invocations per plane + invocation].
@compute @workgroup_size(WG)
fn backward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  var acc = 0.0;
  for (var r = 0u; r < VPI; r++) {
    let it = planarItem(wid, nwg, (wid.x * VPI + r) * WG + lid);
    if (it.count == 0u) { break; }
    acc += gradient(it);
  }
  let plane = wid.y + wid.z * nwg.y;
  if (plane < p.planes) { partials[(plane * nwg.x + wid.x) * WG + lid] = acc; }
}

// The flat layout's gradient for s; backwardAlpha gives its slope gradient.
@compute @workgroup_size(WG)
fn backwardFlat(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var r = 0u; r < VPI; r++) {
    let it = flatItem(flatIndex(lid, wid, nwg, r, VPI));
    if (it.count == 0u) { break; }
    gradient(it);
  }
}

// The flat layout's slope gradient.
@compute @workgroup_size(WG)
fn backwardAlpha(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= s.rows * s.chunks) { return; }
  let c = t / s.chunks;
  var acc = 0.0;
  for (var j = t % s.chunks; j < s.rowLength; j += s.chunks) {
    let i = ((j / s.inner) * s.channels + c) * s.inner + j % s.inner;
    let v = input(i / 4u)[i % 4u];
    acc += select(g[i / 4u][i % 4u] * v, 0.0, v > 0.0);
  }
  partials[t] = acc;
}
