// Separable linear resampling of x [planes = N·C, D, H, W] (nearest neighbour is the case weight 0):
// along each spatial axis, output index o reads source indices lower[o] and upper[o] and mixes them
// with the weight of upper[o]; tables computed on the host, so every coordinate rule (ONNX's and
// PyTorch's) is one kernel. `taps` holds, per axis from tapsAt, (lower, upper, weight) per output
// index, the indices as exact floats (axes are far shorter than 2^24). `forward` reads the 2×2×2 taps
// of each output voxel; `backward` gathers, per input voxel, the output gradients of the outputs that
// read it, over the range of output indices per axis in `reach` ((first, end) per input index, from
// reachAt), so the sum is deterministic (no atomics).
struct Params {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  // D, H, W of the input and of the output (w unused).
  inSize: vec4<u32>,
  outSize: vec4<u32>,
  tapsAt: vec4<u32>,
  reachAt: vec4<u32>,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> taps: array<f32>;
@group(0) @binding(3) var<storage, read> reach: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

/** Output index o's (lower, upper, weight of upper) along an axis. */
fn tap(axis: u32, o: u32) -> vec3<f32> {
  let at = p.tapsAt[axis] + 3u * o;
  return vec3<f32>(taps[at], taps[at + 1u], taps[at + 2u]);
}

fn blend(a: f32, b: f32, w: f32) -> f32 {
  return a * (1.0 - w) + b * w;
}

/** x along W at row (d, h) of a plane, interpolated by the W tap. */
fn row(base: u32, d: f32, h: f32, tw: vec3<f32>) -> f32 {
  let r = base + (u32(d) * p.inSize.y + u32(h)) * p.inSize.z;
  return blend(x[r + u32(tw.x)], x[r + u32(tw.y)], tw.z);
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.n) { return; }
  let outVol = p.outSize.x * p.outSize.y * p.outSize.z;
  let o = t % outVol;
  let base = (t / outVol) * p.inSize.x * p.inSize.y * p.inSize.z;
  let td = tap(0u, o / (p.outSize.y * p.outSize.z));
  let th = tap(1u, (o / p.outSize.z) % p.outSize.y);
  let tw = tap(2u, o % p.outSize.z);
  let lower = blend(row(base, td.x, th.x, tw), row(base, td.x, th.y, tw), th.z);
  let upper = blend(row(base, td.y, th.x, tw), row(base, td.y, th.y, tw), th.z);
  out[t] = blend(lower, upper, td.z);
}

/** How much output index o along an axis takes of source index i. */
fn share(axis: u32, o: u32, i: u32) -> f32 {
  let tp = tap(axis, o);
  return select(0.0, 1.0 - tp.z, u32(tp.x) == i) + select(0.0, tp.z, u32(tp.y) == i);
}

/** The output indices along an axis that may read source index i: [first, end). */
fn reached(axis: u32, i: u32) -> vec2<u32> {
  let at = p.reachAt[axis] + 2u * i;
  return vec2<u32>(u32(reach[at]), u32(reach[at + 1u]));
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.n) { return; }
  let inVol = p.inSize.x * p.inSize.y * p.inSize.z;
  let i = t % inVol;
  let base = (t / inVol) * p.outSize.x * p.outSize.y * p.outSize.z;
  let id = i / (p.inSize.y * p.inSize.z);
  let ih = (i / p.inSize.z) % p.inSize.y;
  let iw = i % p.inSize.z;
  let rd = reached(0u, id);
  let rh = reached(1u, ih);
  let rw = reached(2u, iw);
  var sum = 0.0;
  for (var od = rd.x; od < rd.y; od++) {
    let wd = share(0u, od, id);
    if (wd == 0.0) { continue; }
    var plane = 0.0;
    for (var oh = rh.x; oh < rh.y; oh++) {
      let wh = share(1u, oh, ih);
      if (wh == 0.0) { continue; }
      let r = base + (od * p.outSize.y + oh) * p.outSize.z;
      var line = 0.0;
      for (var ow = rw.x; ow < rw.y; ow++) {
        line += share(2u, ow, iw) * g[r + ow];
      }
      plane += wh * line;
    }
    sum += wd * plane;
  }
  out[t] = sum;
}
