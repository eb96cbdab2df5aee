// Elementwise binary ops with NumPy broadcasting, and the broadcast copy (expand) that shares the
// same index mapping. Shapes up to rank 8, packed in vec4s because uniform arrays need 16-byte strides.
struct Params {
  n: u32,
  rank: u32,
  _pad0: u32,
  _pad1: u32,
  outShape: array<vec4<u32>, 2>,
  aStrides: array<vec4<u32>, 2>,
  bStrides: array<vec4<u32>, 2>,
}

// 0 add, 1 sub, 2 mul, 3 div, 4 greater-than (1.0 / 0.0)
override OP: u32 = 0u;
// 0 when a, b and out share one shape: no index arithmetic at all.
override BROADCAST: u32 = 1u;
override WG: u32 = 256u;

// One vec4 of the output per invocation (on llvmpipe a vec4 load costs what a scalar one does);
// dispatched over ceil(n / 4) invocations. Each invocation owns whole vec4s of out, the last one
// possibly partial.
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Params;

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

// Offsets of output element i in a and b (stride 0 along broadcast dimensions).
fn offsets(i: u32) -> vec2<u32> {
  var rem = i;
  var o = vec2<u32>(0u, 0u);
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let du = u32(d);
    let s = at(p.outShape, du);
    let c = rem % s;
    rem = rem / s;
    o += c * vec2<u32>(at(p.aStrides, du), at(p.bStrides, du));
  }
  return o;
}

fn apply(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    default: { return select(vec4<f32>(0.0), vec4<f32>(1.0), x > y); }
  }
}

fn scalarA(i: u32) -> f32 {
  return a[i / 4u][i % 4u];
}

fn scalarB(i: u32) -> f32 {
  return b[i / 4u][i % 4u];
}

// @include parts/vec4-out.wgsl

@compute @workgroup_size(WG)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  let count = lanes(k);
  if (count == 0u) { return; }
  if (BROADCAST == 0u) {
    store(k, count, apply(a[k], b[k]));
    return;
  }
  var x = vec4<f32>(0.0);
  var y = vec4<f32>(0.0);
  for (var q = 0u; q < count; q++) {
    let o = offsets(4u * k + q);
    x[q] = scalarA(o.x);
    y[q] = scalarB(o.y);
  }
  store(k, count, apply(x, y));
}

@compute @workgroup_size(WG)
fn expand(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  let count = lanes(k);
  if (count == 0u) { return; }
  var x = vec4<f32>(0.0);
  for (var q = 0u; q < count; q++) { x[q] = scalarA(offsets(4u * k + q).x); }
  store(k, count, x);
}
