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

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
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

fn apply(x: f32, y: f32) -> f32 {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    default: { return select(0.0, 1.0, x > y); }
  }
}

@compute @workgroup_size(WG)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  if (BROADCAST == 0u) {
    out[i] = apply(a[i], b[i]);
    return;
  }
  let o = offsets(i);
  out[i] = apply(a[o.x], b[o.y]);
}

@compute @workgroup_size(WG)
fn expand(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  out[i] = a[offsets(i).x];
}
