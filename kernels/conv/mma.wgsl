// @variants MODE native emulated
// @variants FM 2 4
// @variants FN 1 2 4
// @variants B staged direct
// @skip FM=2 FN=4
// @skip FM=2 B=direct
// @reflect-as MODE=emulated
// @include parts/mma-${MODE}.wgsl
// @include parts/mma-b-${B}.wgsl

// The mixed-precision convolution on tensor cores (src/ops/conv/tensor-core.ts): implicit GEMMs
// out[m, n] = Σ_k A[m, k] · B[k, n] with B an f16 [N][K] matrix (K contiguous, padded to a multiple
// of 32) and A gathered from an f16 channels-last copy of the source (conv/mma-layout
// `channelsLast`; channels padded to cp, a multiple of 8, so 8 channels are one 16-byte load with one
// bounds check):
// - `forward`: m = (sample, output voxel), n = output channel, k = (kd, kh, kw, c), c fastest;
//   B = the weights (`packWeights`). A is staged as rows of m, 8 consecutive k a vector. A phase
//   of a transposed pass (the output voxels ≡ r mod stride: a stride-1 conv with a sub-kernel) is
//   this forward too, its rows landing on every stride-th voxel of the output (rowShape, rowStep).
// - `weightGrad`: m = (kd, kh, kw, c) (the weight gradient's taps and source channels, padded to a
//   multiple of 16), n = lhs channel, k = (sample, lhs voxel); B = lhs as f16 [N][K] (`planar`).
//   A is staged as rows of k, 8 consecutive m (channels of one tap) a vector, and the taps spread
//   over the subgroups' rows. The output is [chunk][n][m], reordered and summed over chunks by
//   `weightGradOut`.
// B is staged in workgroup memory (B staged) or its fragments loaded straight from storage (B direct,
// parts/mma-b-*.wgsl: every B row up to the last tile's is then allocated, zeros past N).
// Generated per (MODE, FM, FN, B) by scripts/gen-kernels.mjs: MODE native runs subgroup matrices,
// emulated the same kernel without them (parts/mma-*.wgsl provide stage8, loadA, loadACols, loadB, mma,
// zeroAcc, loadAccScratch, storeOut, storeScratch and the operand `tile`), so CI checks the indexing,
// halo, padding and split logic of the tensor-core kernel exactly.
// A workgroup is SG_M × SG_N subgroups of 32 invocations; each owns FM × FN result fragments of
// 16 × 16 (its accumulators, separate values), so a workgroup covers BM = 16·FM·SG_M by
// BN = 16·FN·SG_N outputs. K runs in steps of 32 through two workgroup stages: while one stage
// multiplies, every invocation's 16-byte global loads of the next step are in flight into registers,
// stored to the other stage after the multiply; one barrier per step. Each stage holds the A tile
// (BM rows) and the B tile (BN rows), 32 halfs of k a row padded to ROW = 40 (80-byte rows: the
// column-major loads of B and the row-major ones of A fall on different banks). Every loaded A
// fragment is used FN times, every B fragment FM times. Fragments whose 16 rows are whole, in one
// sample and consecutive in the output are stored straight to the NCDHW output (column-major: m runs
// along voxels); the others (phases included) go through the subgroup's 16 × 16 scratch with
// per-element bounds checks. K may be split over
// workgroups along z (kChunk < K): each chunk writes its own partial sums (bias in the first), which
// the op adds in a fixed order: no atomics, results identical run to run.

override SG_M: u32 = 1u;  // subgroups along m
override SG_N: u32 = 1u;  // subgroups along n
override WGS: u32 = 32u;  // 32 · SG_M · SG_N
override KD: u32 = 1u;    // kernel taps per dimension
override KH: u32 = 1u;
override KW: u32 = 1u;
override SD: u32 = 1u;    // stride per dimension
override SH: u32 = 1u;
override SW: u32 = 1u;
override BIAS: u32 = 0u;
// The fused end of a V-Net residual stage, forward with K unsplit (one chunk): PReLU of the result
// (+ residual), slope per channel (1) or shared (2); KEEP_PRE also writes the PReLU's input to `pre`,
// which the backward needs.
override PRELU: u32 = 0u;
override RESIDUAL: u32 = 0u;
override KEEP_PRE: u32 = 0u;

const BK = 32u;
const ROW = 40u;
override BM: u32 = 16u * ${FM}u * SG_M;
override BN: u32 = 16u * ${FN}u * SG_N;
// The weight gradient's A tile: BK rows of k, BM halfs of m padded by 8 (it fits in BM rows of ROW).
override A_COLS: u32 = BM + 8u;
override STAGE_HALFS: u32 = (BM + select(0u, BN, B_STAGED)) * ROW;
override TILE_HALFS: u32 = 2u * STAGE_HALFS;
// 16-byte global loads per invocation and step: of A (BM rows of 4) and of B (BN rows of 4).
override A_LOADS: u32 = BM * 4u / WGS;
override B_LOADS: u32 = BN * 4u / WGS;
// f32 scratch: a 16 × 16 block per subgroup, and at least the 16 bias rows of BN.
override SCRATCH: u32 = max(WGS / 32u * 256u, 16u * BN);

struct MmaParams {
  M: u32,
  N: u32,
  K: u32,             // B's row length: a multiple of 32
  kChunk: u32,        // k per workgroup along z, a multiple of 32
  cp: u32,            // source channels padded to a multiple of 8 (the source's row length per voxel)
  mTilesX: u32,       // m tiles along x (the rest along y)
  nTiles: u32,
  chunkSize: u32,     // elements of one chunk's output (K split)
  wholeRows: u32,     // 1 where outRows is a multiple of 16 (fragments never straddle them)
  outRows: u32,       // forward: output voxels per sample (of the phase); weightGrad: M
  kValid: u32,        // weightGrad: the k that exist (samples · lhs voxels)
  outPlane: u32,      // output elements per (sample, channel): outRows, or a phase's whole output voxels
  srcSize: vec4<u32>, // D, H, W, D·H·W of the source
  outSize: vec4<u32>, // D, H, W, D·H·W of the output (weightGrad: of lhs; a phase: its voxels)
  padding: vec4<i32>,
  dilation: vec4<i32>,
  // Where row v of a group lands in its plane: v decomposed over rowShape (D, H, W), each
  // coordinate times rowStep.xyz, plus rowStep.w (a phase of a strided transposed pass: strides
  // and its first voxel; otherwise the identity).
  rowShape: vec4<u32>,
  rowStep: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> wt: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> mp: MmaParams;
@group(0) @binding(6) var<storage, read> alpha: array<f32>;
@group(0) @binding(7) var<storage, read> residual: array<f32>;
@group(0) @binding(8) var<storage, read_write> pre: array<f32>;

// Per subgroup a 16 × 16 f32 block: edge fragments on their way out; before the K loop, the
// 16 × BN bias rows the accumulators start from (as many floats as either takes).
var<workgroup> scratch: array<f32, SCRATCH>;
var<private> lane: u32;
var<private> subgroup: u32;

// What this invocation gathers. forward: per A vector r, the output voxel's origin (voxel · stride −
// padding) in xyz and in w its linear source index (sample included; past M, a value whose
// coordinates fail the bounds check is in xyz). weightGrad: in rows[0] the
// tap's offset (tap · dilation − padding) in xyz and its 8-channel group in w (−1 past the taps).
var<private> rows: array<vec4<i32>, 8>;
// The next step's loads, in flight while the current step multiplies.
var<private> aReg: array<vec4<u32>, 8>;
var<private> bReg: array<vec4<u32>, 8>;

fn tapOffset(tap: u32) -> vec3<i32> {
  return vec3<i32>(vec3<u32>(tap / (KH * KW), (tap / KW) % KH, tap % KW)) * mp.dilation.xyz;
}

// Linear index of voxel p of a source sample (negative coordinates: any value, the caller checks).
fn linear(p: vec3<i32>) -> i32 {
  return (p.x * i32(mp.srcSize.y) + p.y) * i32(mp.srcSize.z) + p.z;
}

fn srcVector(sampleBase: u32, p: vec3<i32>, group: u32, ok: bool) -> vec4<u32> {
  // Unsigned: negative coordinates fail too.
  let inside = ok && all(vec3<u32>(p) < mp.srcSize.xyz);
  let i = (sampleBase + u32(linear(p))) * (mp.cp / 8u) + group;
  return select(vec4<u32>(0u), src[select(0u, i, inside)], inside);
}

// One k group (8 channels of one tap) of the forward's A: the tap's offset in xyz and in w its
// linear offset times cp / 8 plus the channel group (the same for every row an invocation loads).
fn tapGroup(kg: u32) -> vec4<i32> {
  let cpv = mp.cp / 8u;
  let tap = kg / cpv;
  // Taps past the kernel (K padding) get an offset no voxel has.
  let t = select(vec3<i32>(i32(mp.srcSize.x) * 2 + 1), tapOffset(tap), tap < KD * KH * KW);
  return vec4<i32>(t, linear(t) * i32(cpv) + i32(kg % cpv));
}

// forward: A row r at the k group described by g (tapGroup).
fn gatherA(r: u32, g: vec4<i32>) -> vec4<u32> {
  let inside = all(vec3<u32>(rows[r].xyz + g.xyz) < mp.srcSize.xyz);
  let i = u32(rows[r].w * i32(mp.cp / 8u) + g.w);
  return select(vec4<u32>(0u), src[select(0u, i, inside)], inside);
}

// weightGrad: this invocation's 8 m (channels of one tap) at k = (sample, lhs voxel).
fn gatherAGrad(k: u32) -> vec4<u32> {
  let kk = min(k, mp.kValid - 1u);
  let v = kk % mp.outSize.w;
  let o = vec3<i32>(vec3<u32>(v / (mp.outSize.y * mp.outSize.z), (v / mp.outSize.z) % mp.outSize.y, v % mp.outSize.z));
  let stride = vec3<i32>(vec3<u32>(SD, SH, SW));
  let ok = k < mp.kValid && rows[0].w >= 0;
  return srcVector(kk / mp.outSize.w * mp.srcSize.w, o * stride + rows[0].xyz, u32(max(rows[0].w, 0)), ok);
}

fn gatherB(n: u32, kg: u32) -> vec4<u32> {
  let inside = n < mp.N;
  return select(vec4<u32>(0u), wt[select(0u, n * (mp.K / 8u) + kg, inside)], inside);
}

// A vector r of this invocation: forward, row tid / 4 + r · WGS / 4 at k group tid mod 4;
// weightGrad, k row tid / (BM / 8) + r · WGS / (BM / 8) at m group tid mod (BM / 8). B vector r:
// row tid / 4 + r · WGS / 4 at k group tid mod 4.
fn fetch(k0: u32, n0: u32, tid: u32, wgrad: bool) {
  let g = tapGroup(k0 / 8u + tid % 4u);
  for (var r = 0u; r < A_LOADS; r++) {
    if (wgrad) {
      aReg[r] = gatherAGrad(k0 + tid / (BM / 8u) + r * (WGS * 8u / BM));
    } else {
      aReg[r] = gatherA(r, g);
    }
  }
  if (!B_STAGED) { return; }
  for (var r = 0u; r < B_LOADS; r++) { bReg[r] = gatherB(n0 + tid / 4u + r * (WGS / 4u), k0 / 8u + tid % 4u); }
}

fn stash(base: u32, tid: u32, wgrad: bool) {
  for (var r = 0u; r < A_LOADS; r++) {
    if (wgrad) {
      stage8(base + (tid / (BM / 8u) + r * (WGS * 8u / BM)) * A_COLS + (tid % (BM / 8u)) * 8u, aReg[r]);
    } else {
      stage8(base + (tid / 4u + r * (WGS / 4u)) * ROW + (tid % 4u) * 8u, aReg[r]);
    }
  }
  if (!B_STAGED) { return; }
  for (var r = 0u; r < B_LOADS; r++) { stage8(base + (BM + tid / 4u + r * (WGS / 4u)) * ROW + (tid % 4u) * 8u, bReg[r]); }
}

// Fragment (16 rows from m, 16 k from kk) of the A tile at base.
fn fragmentA(base: u32, m: u32, kk: u32, wgrad: bool) -> FragA {
  if (wgrad) { return loadACols(base + kk * A_COLS + m, A_COLS); }
  return loadA(base + m * ROW + kk);
}

fn gemm(wg: vec3<u32>, tid: u32, wgrad: bool) {
  lane = tid % 32u;
  subgroup = tid / 32u;
  let sg = subgroup;
  let m0 = (wg.x + wg.y * mp.mTilesX) * BM;
  let n0 = (wg.z % mp.nTiles) * BN;
  let chunk = wg.z / mp.nTiles;
  let kBegin = chunk * mp.kChunk;
  // A chunk past K (the phases of a transposed pass share one chunk count) takes no step: it writes the bias or zeros.
  let steps = (min(mp.K, kBegin + mp.kChunk) - min(mp.K, kBegin)) / BK;
  let stride = vec3<i32>(vec3<u32>(SD, SH, SW));
  if (wgrad) {
    let m = m0 + (tid % (BM / 8u)) * 8u;
    let tap = m / mp.cp;
    rows[0] = vec4<i32>(tapOffset(tap) - mp.padding.xyz, select(-1, i32(m % mp.cp / 8u), tap < KD * KH * KW));
  } else {
    for (var r = 0u; r < A_LOADS; r++) {
      let m = m0 + tid / 4u + r * (WGS / 4u);
      let mm = min(m, mp.M - 1u);
      let v = mm % mp.outSize.w;
      let o = vec3<i32>(vec3<u32>(v / (mp.outSize.y * mp.outSize.z), (v / mp.outSize.z) % mp.outSize.y, v % mp.outSize.z));
      // Rows past M start far outside the source: every tap fails the bounds check.
      let origin = select(vec3<i32>(-4 * i32(mp.srcSize.x) - 4), o * stride - mp.padding.xyz, m < mp.M);
      rows[r] = vec4<i32>(origin, i32(mm / mp.outSize.w * mp.srcSize.w) + linear(origin));
    }
  }
  if (steps > 0u) {
    fetch(kBegin, n0, tid, wgrad);
    stash(0u, tid, wgrad);
  }

  // The accumulators start from the bias (first K chunk) or zero.
  let hasBias = BIAS == 1u && chunk == 0u;
  if (hasBias) {
    for (var i = tid; i < 16u * BN; i += WGS) {
      let n = n0 + i % BN;
      scratch[i] = select(0.0, bias[min(n, mp.N - 1u)], n < mp.N);
    }
  }
  workgroupBarrier();
  let mSub = (sg % SG_M) * 16u * ${FM}u;
  let nSub = (sg / SG_M) * 16u * ${FN}u;
  // @for i 0 FM
  // @for j 0 FN
  var c${i}${j} = zeroAcc();
  if (hasBias) { c${i}${j} = loadAccScratch(nSub + 16u * ${j}u, BN); }
  // @end
  // @end

  for (var step = 0u; step < steps; step++) {
    let more = step + 1u < steps;
    if (more) { fetch(kBegin + (step + 1u) * BK, n0, tid, wgrad); }
    let base = (step % 2u) * STAGE_HALFS;
    for (var kk = 0u; kk < BK; kk += 16u) {
      // @for i 0 FM
      let a${i} = fragmentA(base, mSub + 16u * ${i}u, kk, wgrad);
      // @end
      // @for j 0 FN
      let b${j} = fragmentB(base, n0 + nSub + 16u * ${j}u, nSub + 16u * ${j}u, kBegin + step * BK + kk);
      // @end
      // @for i 0 FM
      // @for j 0 FN
      c${i}${j} = mma(a${i}, b${j}, c${i}${j});
      // @end
      // @end
    }
    if (more) { stash(STAGE_HALFS - base, tid, wgrad); }
    workgroupBarrier();
  }

  // @for i 0 FM
  // @for j 0 FN
  writeFragment(c${i}${j}, m0 + mSub + 16u * ${i}u, n0 + nSub + 16u * ${j}u, chunk, sg);
  // @end
  // @end
}

@compute @workgroup_size(WGS)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  gemm(wg, tid, false);
}

@compute @workgroup_size(WGS)
fn weightGrad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  gemm(wg, tid, true);
}

// Offset of row v of a group in its output plane (see rowShape).
fn rowOffset(v: u32) -> u32 {
  let s = mp.rowShape;
  return mp.rowStep.w + v / (s.y * s.z) * mp.rowStep.x + (v / s.z) % s.y * mp.rowStep.y + v % s.z * mp.rowStep.z;
}

// Output element `at` (of channel n) from its sum v: PReLU(v + residual), the input kept where asked.
fn epilogue(v: f32, at: u32, n: u32) -> f32 {
  var s = v;
  if (RESIDUAL == 1u) { s += residual[at]; }
  if (KEEP_PRE == 1u) { pre[at] = s; }
  let slope = alpha[select(n, 0u, PRELU == 2u)];
  return select(slope * s, s, s > 0.0);
}

// Stores result fragment (mf .. mf + 15, nf .. nf + 15) to out[chunk][row group][n][plane] (forward:
// row groups are samples, rows their voxels; weightGrad: one group of M rows): straight where whole
// (wholeRows: rows are the plane, in order; no epilogue), else through the subgroup's scratch, element
// by element. Called by every subgroup the same number of times (its barriers are the workgroup's).
fn writeFragment(c: Acc, mf: u32, nf: u32, chunk: u32, sg: u32) {
  let V = mp.outRows;
  let whole = PRELU == 0u && mp.wholeRows == 1u && mf + 16u <= mp.M && nf + 16u <= mp.N;
  if (whole) {
    storeOut(c, chunk * mp.chunkSize + (mf / V * mp.N + nf) * V + mf % V, V);
  } else {
    storeScratch(c, sg * 256u);
  }
  workgroupBarrier();
  if (!whole) {
    let m = mf + lane / 2u;
    let at = rowOffset(m % V);
    for (var e = 0u; e < 8u; e++) {
      let n = nf + (lane % 2u) * 8u + e;
      if (m < mp.M && n < mp.N) {
        let i = chunk * mp.chunkSize + (m / V * mp.N + n) * mp.outPlane + at;
        var v = scratch[sg * 256u + (lane / 2u) * 16u + (lane % 2u) * 8u + e];
        if (PRELU != 0u) { v = epilogue(v, i, n); }
        out[i] = v;
      }
    }
  }
  workgroupBarrier();
}
