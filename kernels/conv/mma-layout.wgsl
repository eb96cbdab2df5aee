// The operand layouts of the tensor-core convolution (kernels/conv/mma.wgsl), f16 values packed two
// to a u32 with pack2x16float (no shader-f16 needed), 8 to a vec4<u32>:
// - `channelsLast`: the source NCDHW f32 → NDHWC f16, channels padded with zeros to cp, a multiple
//   of 8 (one 16-byte load gathers 8 channels of one voxel);
// - `packWeights`: the weights → [N][K] f16, k = (kd, kh, kw, c) of a sub-kernel `sub` with c < cp
//   fastest, K padded with zeros to a multiple of 32 (and N, where more rows are allocated). Sub-kernel
//   tap s is the kernel's tap tapFirst + s · tapStep per dimension: the whole kernel (first 0, step 1),
//   or flipped (a transposed pass as forward convs with in↔out-swapped weights: stride 1 the whole
//   kernel from its last tap, step −1; a phase of stride s every s-th tap it meets);
// - `planar`: the weight gradient's lhs NCDHW f32 → [C][K] f16, k = (sample, voxel), K padded with
//   zeros to a multiple of 32, C likewise where more rows are allocated (B of the weight-gradient GEMM);
// - `weightGradOut`: that GEMM's [chunk][a][m] partial sums, m = (tap, c < cp), → the gradient
//   [a][c][tap], summed over the chunks in a fixed order (deterministic).

struct LayoutParams {
  total: u32,    // vec4<u32> outputs
  C: u32,        // source channels
  cp: u32,       // padded channels
  spatial: u32,  // channelsLast: voxels per sample; packWeights: the sub-kernel's taps
  K: u32,        // packWeights: padded K
  strideC: u32,  // packWeights: weight element stride of a source channel
  strideN: u32,  // ... of an output channel
  rows: u32,     // packWeights: output channels (rows past them are zeros); planar: samples · voxels
  sub: vec4<u32>,       // packWeights: the sub-kernel's taps per dimension (D, H, W)
  kernel: vec4<u32>,    // ... the kernel's
  tapFirst: vec4<i32>,  // ... the kernel tap of sub-kernel tap 0, per dimension
  tapStep: vec4<i32>,   // ... and its step per sub-kernel tap
}

struct GradOutParams {
  total: u32,      // gradient elements
  C: u32,          // source channels
  cp: u32,
  taps: u32,
  M: u32,          // partial sums per lhs channel
  chunks: u32,
  chunkSize: u32,
  _pad0: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> packed: array<vec4<u32>>;
@group(0) @binding(2) var<uniform> lp: LayoutParams;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<uniform> gop: GradOutParams;

fn pair(a: f32, b: f32) -> u32 {
  return pack2x16float(vec2<f32>(a, b));
}

@compute @workgroup_size(64)
fn channelsLast(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= lp.total) { return; }
  let cpv = lp.cp / 8u;
  let voxel = i / cpv;
  let c0 = (i % cpv) * 8u;
  let sample = voxel / lp.spatial;
  let v = voxel % lp.spatial;
  var h: array<f32, 8>;
  for (var e = 0u; e < 8u; e++) {
    let c = c0 + e;
    h[e] = select(0.0, x[select(0u, (sample * lp.C + c) * lp.spatial + v, c < lp.C)], c < lp.C);
  }
  packed[i] = vec4<u32>(pair(h[0], h[1]), pair(h[2], h[3]), pair(h[4], h[5]), pair(h[6], h[7]));
}

@compute @workgroup_size(64)
fn packWeights(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= lp.total) { return; }
  let cpv = lp.cp / 8u;
  let n = i / (lp.K / 8u);
  let kg = i % (lp.K / 8u);
  let tap = kg / cpv;
  let s = vec3<i32>(vec3<u32>(tap / (lp.sub.y * lp.sub.z), (tap / lp.sub.z) % lp.sub.y, tap % lp.sub.z));
  let k = vec3<u32>(lp.tapFirst.xyz + s * lp.tapStep.xyz);
  let t = (k.x * lp.kernel.y + k.y) * lp.kernel.z + k.z;
  var h: array<f32, 8>;
  for (var e = 0u; e < 8u; e++) {
    let c = (kg % cpv) * 8u + e;
    let inside = tap < lp.spatial && c < lp.C && n < lp.rows;
    h[e] = select(0.0, x[select(0u, c * lp.strideC + n * lp.strideN + t, inside)], inside);
  }
  packed[i] = vec4<u32>(pair(h[0], h[1]), pair(h[2], h[3]), pair(h[4], h[5]), pair(h[6], h[7]));
}

@compute @workgroup_size(64)
fn planar(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= lp.total) { return; }
  let c = i / (lp.K / 8u);
  let k0 = (i % (lp.K / 8u)) * 8u;
  var h: array<f32, 8>;
  for (var e = 0u; e < 8u; e++) {
    let k = k0 + e;
    let inside = k < lp.rows && c < lp.C;
    h[e] = select(0.0, x[select(0u, (k / lp.spatial * lp.C + c) * lp.spatial + k % lp.spatial, inside)], inside);
  }
  packed[i] = vec4<u32>(pair(h[0], h[1]), pair(h[2], h[3]), pair(h[4], h[5]), pair(h[6], h[7]));
}

@compute @workgroup_size(64)
fn weightGradOut(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= gop.total) { return; }
  let a = i / (gop.C * gop.taps);
  let c = (i / gop.taps) % gop.C;
  let tap = i % gop.taps;
  let at = a * gop.M + tap * gop.cp + c;
  var s = 0.0;
  for (var chunk = 0u; chunk < gop.chunks; chunk++) {
    s += x[chunk * gop.chunkSize + at];
  }
  grad[i] = s;
}
