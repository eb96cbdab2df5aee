// Elementwise maps with one scalar parameter: out = f(x, s). FN picks f at pipeline creation so
// each variant compiles to straight-line code.
struct Params {
  n: u32,
  s: f32,
}

// 0 x+s, 1 x*s, 2 exp, 3 log, 4 sqrt, 5 abs, 6 max(x, s), 7 step (1 where x > s, else 0)
override FN: u32 = 0u;
override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn f(v: f32) -> f32 {
  switch FN {
    case 0u: { return v + p.s; }
    case 1u: { return v * p.s; }
    case 2u: { return exp(v); }
    case 3u: { return log(v); }
    case 4u: { return sqrt(v); }
    case 5u: { return abs(v); }
    case 6u: { return max(v, p.s); }
    default: { return select(0.0, 1.0, v > p.s); }
  }
}

@compute @workgroup_size(WG)
fn map(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  out[i] = f(x[i]);
}

// Writes s everywhere; binds no input.
@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  out[i] = p.s;
}

// out += x, in place: gradient accumulation without a new buffer.
@compute @workgroup_size(WG)
fn accumulate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  out[i] = out[i] + x[i] * p.s;
}

// out += s, in place: a counter on the device (BatchNorm3d's num_batches_tracked).
@compute @workgroup_size(WG)
fn addInPlace(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  out[i] = out[i] + p.s;
}
