// softmax and log-softmax along one axis, x seen as [outer, length, inner]: each invocation owns one
// (outer, inner) line (in NCDHW along channels: one voxel) and walks its `length` values `inner`
// apart, so neighbouring invocations read neighbouring addresses. Max-subtracted, so large logits
// cannot overflow exp(). forward4/backward4 do the same for 4 neighbouring lines at once, in vec4s,
// when inner is a multiple of 4 (V-Net: channels of a volume): the outer index is the workgroup row
// (ctx.planeGrid, src/device/context.ts), so nothing is divided; their params count outer rows (lines) and
// vec4s (inner).
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
    // (x − m) − log Σ, not x − (m + log Σ): m + log Σ rounds to m's ulp (5e-4 at 1e4), which would
    // swamp an output near 0.
    let lse = log(total);
    for (var i = base; i < end; i += p.inner) { out[i] = (x[i] - m) - lse; }
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

@group(0) @binding(5) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> y4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> g4: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> out4: array<vec4<f32>>;

// First vec4 of this invocation's 4 lines, or none (past the rows or the row's end).
fn lineStart4(lid: u32, wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
  let outer = wid.y + wid.z * nwg.y;
  let j = wid.x * WG + lid;
  return vec2<u32>(outer * p.length * p.inner + j, u32(outer < p.lines && j < p.inner));
}

@compute @workgroup_size(WG)
fn forward4(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let at = lineStart4(lid, wid, nwg);
  if (at.y == 0u) { return; }
  let base = at.x;
  let end = base + p.length * p.inner;
  var m = x4[base];
  for (var i = base + p.inner; i < end; i += p.inner) { m = max(m, x4[i]); }
  var total = vec4<f32>(0.0);
  for (var i = base; i < end; i += p.inner) { total += exp(x4[i] - m); }
  if (LOG == 1u) {
    let lse = log(total);
    for (var i = base; i < end; i += p.inner) { out4[i] = (x4[i] - m) - lse; }
  } else {
    let inv = 1.0 / total;
    for (var i = base; i < end; i += p.inner) { out4[i] = exp(x4[i] - m) * inv; }
  }
}

@compute @workgroup_size(WG)
fn backward4(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let at = lineStart4(lid, wid, nwg);
  if (at.y == 0u) { return; }
  let base = at.x;
  let end = base + p.length * p.inner;
  var total = vec4<f32>(0.0);
  for (var i = base; i < end; i += p.inner) {
    total += select(g4[i] * y4[i], g4[i], LOG == 1u);
  }
  for (var i = base; i < end; i += p.inner) {
    out4[i] = select(y4[i] * (g4[i] - total), g4[i] - exp(y4[i]) * total, LOG == 1u);
  }
}
