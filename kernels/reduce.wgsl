// Sum over any set of axes. The op merges adjacent axes so that the input is seen as alternating
// kept/reduced blocks; each invocation sums one chunk of the reduced elements of one output, and a
// second pass sums the chunks. Splitting keeps all cores busy when few outputs reduce many inputs
// (a conv bias gradient: 16 outputs, a million inputs each).
struct Params {
  outSize: u32,
  reduceSize: u32,
  chunk: u32,
  chunks: u32,
  keptRank: u32,
  redRank: u32,
  scale: f32,
  _pad: u32,
  keptShape: array<vec4<u32>, 2>,
  keptStrides: array<vec4<u32>, 2>,
  redShape: array<vec4<u32>, 2>,
  redStrides: array<vec4<u32>, 2>,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

fn decode(i: u32, shape: array<vec4<u32>, 2>, strides: array<vec4<u32>, 2>, rank: u32) -> u32 {
  var rem = i;
  var off = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let du = u32(d);
    let s = at(shape, du);
    off += (rem % s) * at(strides, du);
    rem = rem / s;
  }
  return off;
}

@compute @workgroup_size(WG)
fn sum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.outSize * p.chunks) { return; }
  let o = t / p.chunks;
  let c = t % p.chunks;
  let base = decode(o, p.keptShape, p.keptStrides, p.keptRank);
  let start = c * p.chunk;
  let end = min(start + p.chunk, p.reduceSize);
  // The innermost reduced block is walked with a stride, so only its carry needs a division.
  let innerSize = at(p.redShape, p.redRank - 1u);
  let innerStride = at(p.redStrides, p.redRank - 1u);
  var acc = 0.0;
  var r = start;
  while (r < end) {
    let j = r % innerSize;
    let run = min(innerSize - j, end - r);
    var off = base + decode(r / innerSize, p.redShape, p.redStrides, p.redRank - 1u) + j * innerStride;
    for (var k = 0u; k < run; k++) {
      acc += x[off];
      off += innerStride;
    }
    r += run;
  }
  out[t] = acc * p.scale;
}
