// The implicit-GEMM convolution family, for hardware adapters (src/ops/conv/gemm.ts maps each conv
// pass onto these entries). Every pass is C[m, n] = Σ_k A[m, k] · B[k, n], tiled per workgroup in
// BM × BN outputs: each step stages a BK slice of both operands in workgroup memory (cooperative
// loads, consecutive invocations on consecutive addresses), then the inner product accumulates it:
// f32 register tiles of TM × TN per invocation (parts/gemm-fma.wgsl, kernel conv/gemm), providing
// storeA/storeB (stage one operand value), accumulate (one staged slice), finish and value (the
// result of output (tx·TM + i, ty·TN + j) of the tile). Only the operand loaders and the output
// writer differ per pass; the im2col addresses and the zero padding are computed in the loaders,
// never materialised:
// - `forward`: a strided correlation, m = (sample, output voxel), n = output channel,
//   k = (source channel, tap): conv3d forward, convTranspose3d's input gradient.
// - `transposed`: the adjoint correlation, same m, n, k; a tap reaches output i from source
//   (i + padding − tap·dilation) / stride where that divides: conv3d's input gradient,
//   convTranspose3d forward.
// - `scatter`: the transposed pass when the stride equals the kernel (no padding or dilation):
//   m = (sample, source voxel), n = (output channel, tap), k = source channel, each output voxel
//   written once, by the tap of its block.
// - `weightGrad`: m = lhs channel a, n = (src channel b, tap), k = (sample, lhs voxel): either op's
//   weight gradient, split over K in chunks (workgroups along z) whose partial sums the op adds.
// - `repack`: B of `forward`/`transposed` as a [K][N] matrix, N contiguous.
// Where K is split over workgroups along z (kChunk < K), `forward`/`transposed` write one partial sum
// per K chunk (bias in the first), which the op adds in a fixed order: no float atomics, results
// bit-identical run to run.

override TM: u32 = 4u;     // rows (m) of the tile per invocation
override TN: u32 = 4u;     // columns (n) of the tile per invocation
override WM: u32 = 16u;    // invocations along m
override WN: u32 = 16u;    // invocations along n
override WGS: u32 = 256u;  // WM · WN
override BK: u32 = 16u;    // k per step
override KD: u32 = 1u;     // kernel taps per dimension
override KH: u32 = 1u;
override KW: u32 = 1u;
override SD: u32 = 1u;     // stride per dimension
override SH: u32 = 1u;
override SW: u32 = 1u;
override BIAS: u32 = 0u;

// One parameter struct per pass, each starting with the GEMM's sizes and grid.
struct Gemm {
  M: u32,          // M × N outputs, K summed
  N: u32,
  K: u32,
  kChunk: u32,     // k per workgroup along z (a multiple of BK; K where K is not split)
  mTilesX: u32,    // m tiles along x (the rest along y)
  nTiles: u32,     // n tiles along z, times the K chunks
  chunkSize: u32,  // outputs per chunk of partial sums
  _pad0: u32,
}

// forward, transposed.
struct ConvolveParams {
  gemm: Gemm,
  channels: u32,       // source channels
  srcSize: vec4<u32>,  // D, H, W, D·H·W of the source
  outSize: vec4<u32>,  // D, H, W, D·H·W of the output
  padding: vec4<i32>,
  dilation: vec4<i32>,
}

// scatter: one K chunk.
struct ScatterParams {
  gemm: Gemm,
  channels: u32,     // source channels
  outChannels: u32,
  srcSize: vec4<u32>,  // D, H, W, D·H·W of the source
  outSize: vec4<u32>,  // D, H, W, D·H·W of the output
}

// weightGrad: M lhs channels.
struct GradParams {
  gemm: Gemm,
  srcChannels: u32,
  srcSize: vec4<u32>,  // D, H, W, D·H·W of src (the big tensor)
  lhsSize: vec4<u32>,  // D, H, W, D·H·W of lhs
  padding: vec4<i32>,
  dilation: vec4<i32>,
}

struct RepackParams {
  total: u32,
  N: u32,
  taps: u32,
  strideC: u32,  // weight element stride of a source channel
  strideN: u32,  // ... of an output channel
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> packed: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> cp: ConvolveParams;
@group(0) @binding(5) var<storage, read> lhs: array<f32>;
@group(0) @binding(6) var<storage, read> weight: array<f32>;
@group(0) @binding(7) var<uniform> rp: RepackParams;
@group(0) @binding(8) var<storage, read_write> packedOut: array<f32>;
@group(0) @binding(9) var<uniform> sp: ScatterParams;
@group(0) @binding(10) var<uniform> wp: GradParams;

// Staging along m (or n) for a tile `cols` wide: invocation tid stages columns tid mod cols + r·WGS
// for r < reps(cols) ≤ MAXREPS, each at k rows tid / cols + j·kStep(cols), so every column's
// coordinates are computed once per kernel.
const MAXREPS: u32 = 4u;
fn reps(cols: u32) -> u32 { return max(1u, cols / WGS); }
fn kStep(cols: u32) -> u32 { return max(1u, WGS / cols); }

// The workgroup's tile: m0, n0 and its K range [k0, k1).
struct Tile {
  m0: u32,
  n0: u32,
  chunk: u32,
  k0: u32,
  k1: u32,
}

fn tileOf(wg: vec3<u32>, g: Gemm) -> Tile {
  var t: Tile;
  t.m0 = (wg.x + wg.y * g.mTilesX) * WM * TM;
  t.n0 = (wg.z % g.nTiles) * WN * TN;
  t.chunk = wg.z / g.nTiles;
  t.k0 = t.chunk * g.kChunk;
  t.k1 = min(g.K, t.k0 + g.kChunk);
  return t;
}

// B of forward/transposed from the packed [K][N] weights (scatter: the weights as they are,
// [C][J·taps]), n-fastest: coalesced, conflict-free.
fn stageRowMajorB(tid: u32, k0: u32, k1: u32, n0: u32, N: u32, fromPacked: bool) {
  let BN = WN * TN;
  for (var r = 0u; r < reps(BN); r++) {
    let nl = tid % BN + r * WGS;
    let n = n0 + nl;
    for (var kl = tid / BN; kl < BK; kl += kStep(BN)) {
      let k = k0 + kl;
      let inside = k < k1 && n < N;
      let i = select(0u, k * N + n, inside);
      var v = 0.0;
      if (fromPacked) { v = packed[i]; } else { v = weight[i]; }
      storeB(kl, nl, select(0.0, v, inside));
    }
  }
}

// Source coordinates of one GEMM row (sample, voxel) of the output.
struct Row {
  inside: bool,
  base: u32,        // first element of the sample in src
  pos: vec3<i32>,   // output voxel
}

fn rowOf(m: u32) -> Row {
  var r: Row;
  r.inside = m < cp.gemm.M;
  let mm = select(0u, m, r.inside);
  let sample = mm / cp.outSize.w;
  let v = mm % cp.outSize.w;
  r.base = sample * cp.channels * cp.srcSize.w;
  r.pos = vec3<i32>(vec3<u32>(v / (cp.outSize.y * cp.outSize.z), (v / cp.outSize.z) % cp.outSize.y, v % cp.outSize.z));
  return r;
}

fn srcAt(r: Row, c: u32, p: vec3<i32>, ok: bool) -> f32 {
  let size = vec3<i32>(cp.srcSize.xyz);
  let inside = ok && r.inside && c < cp.channels && all(p >= vec3<i32>(0)) && all(p < size);
  let i = r.base + c * cp.srcSize.w + u32((p.x * size.y + p.y) * size.z + p.z);
  return select(0.0, src[select(0u, i, inside)], inside);
}

// k = (channel, tap) as (channel, kd, kh, kw).
fn tapOf(k: u32) -> vec4<u32> {
  let tap = k % (KD * KH * KW);
  return vec4<u32>(k / (KD * KH * KW), tap / (KH * KW), (tap / KW) % KH, tap % KW);
}

// Writes the tile to out[sample, n, voxel] (+ bias), or to this chunk's partial sums.
fn writeNCDHW(acc: ptr<function, Acc>, t: Tile, tid: u32) {
  for (var i = 0u; i < TM; i++) {
    let m = t.m0 + (tid % WM) * TM + i;
    if (m >= cp.gemm.M) { continue; }
    let sample = m / cp.outSize.w;
    let v = m % cp.outSize.w;
    for (var j = 0u; j < TN; j++) {
      let n = t.n0 + (tid / WM) * TN + j;
      if (n >= cp.gemm.N) { continue; }
      var x = value(acc, tid, i, j);
      if (BIAS == 1u && t.chunk == 0u) { x += bias[n]; }
      out[t.chunk * cp.gemm.chunkSize + (sample * cp.gemm.N + n) * cp.outSize.w + v] = x;
    }
  }
}

// The im2col tile of forward (transposed = false) or transposed: each invocation stages up to four
// output rows, whose coordinates it computes once.
fn convolveGemm(wg: vec3<u32>, tid: u32, transposed: bool) {
  let t = tileOf(wg, cp.gemm);
  let BM = WM * TM;
  var rows: array<Row, MAXREPS>;
  for (var r = 0u; r < reps(BM); r++) { rows[r] = rowOf(t.m0 + tid % BM + r * WGS); }
  let stride = vec3<i32>(vec3<u32>(SD, SH, SW));
  var acc: Acc;
  for (var k0 = t.k0; k0 < t.k1; k0 += BK) {
    for (var r = 0u; r < reps(BM); r++) {
      for (var kl = tid / BM; kl < BK; kl += kStep(BM)) {
        let c = tapOf(k0 + kl);
        let tap = vec3<i32>(c.yzw) * cp.dilation.xyz;
        var p = rows[r].pos * stride - cp.padding.xyz + tap;
        var ok = k0 + kl < t.k1;
        if (transposed) {
          // Source voxel q / stride reaches this output through the tap where q divides (q < 0
          // divides to a wrong voxel, but fails the test).
          let q = rows[r].pos + cp.padding.xyz - tap;
          ok = ok && all(q >= vec3<i32>(0)) && all(q % stride == vec3<i32>(0));
          p = q / stride;
        }
        storeA(kl, tid % BM + r * WGS, srcAt(rows[r], c.x, p, ok));
      }
    }
    stageRowMajorB(tid, k0, t.k1, t.n0, cp.gemm.N, true);
    workgroupBarrier();
    accumulate(&acc, tid);
    workgroupBarrier();
  }
  finish(&acc, tid);
  writeNCDHW(&acc, t, tid);
}

@compute @workgroup_size(WGS)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  convolveGemm(wg, tid, false);
}

@compute @workgroup_size(WGS)
fn transposed(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  convolveGemm(wg, tid, true);
}

@compute @workgroup_size(WGS)
fn scatter(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let t = tileOf(wg, sp.gemm);
  let BM = WM * TM;
  // A[m, c] = src[sample, c, voxel]: m = (sample, source voxel), sp.srcSize.w voxels per sample.
  var aBase: array<u32, MAXREPS>;
  var mInside: array<bool, MAXREPS>;
  for (var r = 0u; r < reps(BM); r++) {
    let m = t.m0 + tid % BM + r * WGS;
    mInside[r] = m < sp.gemm.M;
    let mm = select(0u, m, mInside[r]);
    aBase[r] = (mm / sp.srcSize.w) * sp.channels * sp.srcSize.w + mm % sp.srcSize.w;
  }
  var acc: Acc;
  for (var k0 = t.k0; k0 < t.k1; k0 += BK) {
    for (var r = 0u; r < reps(BM); r++) {
      for (var kl = tid / BM; kl < BK; kl += kStep(BM)) {
        let c = k0 + kl;
        let inside = mInside[r] && c < t.k1;
        storeA(kl, tid % BM + r * WGS, select(0.0, src[select(0u, aBase[r] + c * sp.srcSize.w, inside)], inside));
      }
    }
    stageRowMajorB(tid, k0, t.k1, t.n0, sp.gemm.N, false);
    workgroupBarrier();
    accumulate(&acc, tid);
    workgroupBarrier();
  }
  finish(&acc, tid);
  let taps = KD * KH * KW;
  for (var i = 0u; i < TM; i++) {
    let m = t.m0 + (tid % WM) * TM + i;
    if (m >= sp.gemm.M) { continue; }
    let s = m / sp.srcSize.w;
    let v = m % sp.srcSize.w;
    let q = vec3<u32>(v / (sp.srcSize.y * sp.srcSize.z), (v / sp.srcSize.z) % sp.srcSize.y, v % sp.srcSize.z);
    for (var j = 0u; j < TN; j++) {
      let n = t.n0 + (tid / WM) * TN + j;
      if (n >= sp.gemm.N) { continue; }
      let ch = n / taps;
      let tap = n % taps;
      let o = q * vec3<u32>(KD, KH, KW) + vec3<u32>(tap / (KH * KW), (tap / KW) % KH, tap % KW);
      // Blocks past a size that is not a multiple of the kernel cover no output voxel.
      if (any(o >= sp.outSize.xyz)) { continue; }
      var x = value(&acc, tid, i, j);
      if (BIAS == 1u) { x += bias[ch]; }
      out[((s * sp.outChannels + ch) * sp.outSize.x + o.x) * sp.outSize.y * sp.outSize.z + o.y * sp.outSize.z + o.z] = x;
    }
  }
}

@compute @workgroup_size(WGS)
fn weightGrad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let t = tileOf(wg, wp.gemm);
  let BM = WM * TM;
  let BN = WN * TN;
  // Both operands run along k in memory: each invocation stages one k (its column kl) of both.
  let kl = tid % BK;
  let stride = vec3<i32>(vec3<u32>(SD, SH, SW));
  let size = vec3<i32>(wp.srcSize.xyz);
  var acc: Acc;
  for (var k0 = t.k0; k0 < t.k1; k0 += BK) {
    let k = k0 + kl;
    let kInside = k < t.k1;
    let kk = select(0u, k, kInside);
    let sample = kk / wp.lhsSize.w;
    let v = kk % wp.lhsSize.w;
    let o = vec3<i32>(vec3<u32>(v / (wp.lhsSize.y * wp.lhsSize.z), (v / wp.lhsSize.z) % wp.lhsSize.y, v % wp.lhsSize.z));
    let origin = o * stride - wp.padding.xyz;
    // A[a, k] = lhs[sample, a, voxel].
    for (var ml = tid / BK; ml < BM; ml += WGS / BK) {
      let a = t.m0 + ml;
      let inside = kInside && a < wp.gemm.M;
      storeA(kl, ml, select(0.0, lhs[select(0u, (sample * wp.gemm.M + a) * wp.lhsSize.w + v, inside)], inside));
    }
    // B[k, (b, tap)] = src[sample, b, origin + tap · dilation].
    for (var nl = tid / BK; nl < BN; nl += WGS / BK) {
      let n = t.n0 + nl;
      let c = tapOf(n);
      let p = origin + vec3<i32>(c.yzw) * wp.dilation.xyz;
      let inside = kInside && n < wp.gemm.N && all(p >= vec3<i32>(0)) && all(p < size);
      let i = (sample * wp.srcChannels + c.x) * wp.srcSize.w + u32((p.x * size.y + p.y) * size.z + p.z);
      storeB(kl, nl, select(0.0, src[select(0u, i, inside)], inside));
    }
    workgroupBarrier();
    accumulate(&acc, tid);
    workgroupBarrier();
  }
  finish(&acc, tid);
  for (var i = 0u; i < TM; i++) {
    let a = t.m0 + (tid % WM) * TM + i;
    for (var j = 0u; j < TN; j++) {
      let n = t.n0 + (tid / WM) * TN + j;
      if (a < wp.gemm.M && n < wp.gemm.N) { out[t.chunk * wp.gemm.chunkSize + a * wp.gemm.N + n] = value(&acc, tid, i, j); }
    }
  }
}

@compute @workgroup_size(64)
fn repack(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= rp.total) { return; }
  let k = i / rp.N;
  let n = i % rp.N;
  packedOut[i] = weight[(k / rp.taps) * rp.strideC + n * rp.strideN + k % rp.taps];
}
