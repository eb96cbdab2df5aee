// 3D max pooling over x [planes = N·C, D, H, W] (floor mode, padding never chosen): `forward` writes
// each window's maximum (the first one on ties, as PyTorch) and its position in the plane, as a u32
// (a float index would be exact only up to 2^24 voxels per plane, 256³); `backward` gives each input voxel the sum of the
// output gradients of the windows whose maximum it was, a gather over the windows that contain it,
// so the result is deterministic (no atomics).
struct Params {
  n: u32,
  planes: u32,
  _pad0: u32,
  _pad1: u32,
  // D, H, W of the input and of the output (w unused).
  inSize: vec4<u32>,
  outSize: vec4<u32>,
  kernel: vec4<u32>,
  stride: vec4<u32>,
  padding: vec4<u32>,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> index: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;

fn volume(s: vec4<u32>) -> u32 {
  return s.x * s.y * s.z;
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.n) { return; }
  let outVol = volume(p.outSize);
  let plane = t / outVol;
  let o = t % outVol;
  let oc = vec3<i32>(vec3<u32>(o / (p.outSize.y * p.outSize.z), (o / p.outSize.z) % p.outSize.y, o % p.outSize.z));
  let origin = oc * vec3<i32>(p.stride.xyz) - vec3<i32>(p.padding.xyz);
  let size = vec3<i32>(p.inSize.xyz);
  let base = plane * volume(p.inSize);
  var best = 0.0; // replaced by the first voxel inside x (found)
  var at = 0u;
  var found = false;
  for (var kd = 0; kd < i32(p.kernel.x); kd++) {
    let d = origin.x + kd;
    if (d < 0 || d >= size.x) { continue; }
    for (var kh = 0; kh < i32(p.kernel.y); kh++) {
      let h = origin.y + kh;
      if (h < 0 || h >= size.y) { continue; }
      for (var kw = 0; kw < i32(p.kernel.z); kw++) {
        let w = origin.z + kw;
        if (w < 0 || w >= size.z) { continue; }
        let i = u32((d * size.y + h) * size.z + w);
        let v = x[base + i];
        if (!found || v > best) {
          best = v;
          at = i;
          found = true;
        }
      }
    }
  }
  out[t] = best;
  index[t] = at;
}

/** The first and one-past-last output positions along an axis whose windows contain input position c. */
fn windows(c: i32, k: u32, s: u32, pad: u32, count: u32) -> vec2<i32> {
  let reach = c + i32(pad);
  let first = max(0, (reach - i32(k) + i32(s)) / i32(s));
  let last = min(i32(count) - 1, reach / i32(s));
  return vec2<i32>(first, last + 1);
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.n) { return; }
  let inVol = volume(p.inSize);
  let plane = t / inVol;
  let i = t % inVol;
  let c = vec3<i32>(vec3<u32>(i / (p.inSize.y * p.inSize.z), (i / p.inSize.z) % p.inSize.y, i % p.inSize.z));
  let rd = windows(c.x, p.kernel.x, p.stride.x, p.padding.x, p.outSize.x);
  let rh = windows(c.y, p.kernel.y, p.stride.y, p.padding.y, p.outSize.y);
  let rw = windows(c.z, p.kernel.z, p.stride.z, p.padding.z, p.outSize.z);
  let base = plane * volume(p.outSize);
  var sum = 0.0;
  for (var od = rd.x; od < rd.y; od++) {
    for (var oh = rh.x; oh < rh.y; oh++) {
      for (var ow = rw.x; ow < rw.y; ow++) {
        let o = base + u32((od * i32(p.outSize.y) + oh) * i32(p.outSize.z) + ow);
        if (index[o] == i) { sum += g[o]; }
      }
    }
  }
  out[t] = sum;
}
