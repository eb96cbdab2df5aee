// Bench only (bench/ceiling.ts): the adapter's arithmetic ceiling. Each invocation runs ILP
// independent chains of vec4 FMAs, four steps per loop trip so loop overhead stays small next to the
// arithmetic. m and c come from a uniform, so the compiler cannot fold the chains away; the sum is
// stored so it cannot drop them either. FLOPs = invocations · iters · ILP · 4 steps · 4 lanes · 2.
// ILP must be a literal (function-scope arrays cannot be override-sized), hence one entry per ILP.
struct Params {
  iters: u32,
  m: f32,
  c: f32,
  _pad: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> p: Params;

fn start(gid: vec3<u32>) -> vec4<f32> {
  return vec4<f32>(f32(gid.x & 7u), f32(gid.y & 7u), 1.0, 0.5) * 0.01;
}

fn index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn ilp1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let m = vec4<f32>(p.m);
  let c = vec4<f32>(p.c);
  var a0 = start(gid);
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c); a0 = fma(a0, m, c); a0 = fma(a0, m, c); a0 = fma(a0, m, c);
  }
  out[index(gid, nwg)] = a0;
}

@compute @workgroup_size(WG)
fn ilp2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let m = vec4<f32>(p.m);
  let c = vec4<f32>(p.c);
  var a0 = start(gid);
  var a1 = a0 + 1.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c);
    a0 = fma(a0, m, c); a1 = fma(a1, m, c);
    a0 = fma(a0, m, c); a1 = fma(a1, m, c);
    a0 = fma(a0, m, c); a1 = fma(a1, m, c);
  }
  out[index(gid, nwg)] = a0 + a1;
}

@compute @workgroup_size(WG)
fn ilp4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let m = vec4<f32>(p.m);
  let c = vec4<f32>(p.c);
  var a0 = start(gid);
  var a1 = a0 + 1.0;
  var a2 = a0 + 2.0;
  var a3 = a0 + 3.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
  }
  out[index(gid, nwg)] = a0 + a1 + a2 + a3;
}

@compute @workgroup_size(WG)
fn ilp8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let m = vec4<f32>(p.m);
  let c = vec4<f32>(p.c);
  var a0 = start(gid);
  var a1 = a0 + 1.0;
  var a2 = a0 + 2.0;
  var a3 = a0 + 3.0;
  var a4 = a0 + 4.0;
  var a5 = a0 + 5.0;
  var a6 = a0 + 6.0;
  var a7 = a0 + 7.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
  }
  out[index(gid, nwg)] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}
