// 3D convolution, forward and backward, for conv3d and convTranspose3d (src/ops/conv3d.ts maps
// each pass onto these entries):
// - `convolve`: out[n, o, q] = bias[o] + Σ_c Σ_taps src[n, c, q·srcStride + srcOffset + t·srcDil]
//   · packed[o, c, t], a strided correlation over one output phase (positions outPhase +
//   outStride·q). conv3d forward and convTranspose3d's input gradient are one phase; the
//   transposed passes run one dispatch per stride phase with the taps that reach it.
// - `repack`: the weights a `convolve` dispatch reads, flipped/selected per phase and laid out
//   [outBlock][c][td][th][tw][COT] so each tap's COT output-channel weights are adjacent vec4s.
// - `weightGrad`: partial[chunk, a, b, k] = Σ over a chunk of rows of lhs[n, a, o] ·
//   src[n, b, o·stride − padding + k·dilation]; the op sums the chunks.
//
// Software adapters run a workgroup on one CPU thread, SIMD across invocations, and every storage
// load is a per-lane loop: the cost is in loads, not FMAs. So each invocation keeps a register
// tile (COT output channels × 4·XV positions along W) and, on the fast path (ROW = 1: rows
// 16-byte aligned), reads a source row once as NV vec4s into registers, reusing it for every tap
// along W. Tap counts/strides along W are then override constants so every row index folds to a
// constant. No workgroup memory, no barriers, loops left as loops.

const MAXV: u32 = 8u;     // vec4s in a row buffer
const MAXF: u32 = 32u;    // floats in a row buffer (4 * MAXV)
const MAXACC: u32 = 32u;  // vec4 accumulators (COT * XV)
const MAXXV: u32 = 4u;
const MAXGACC: u32 = 64u; // weightGrad accumulators (COT * TW)

override WG: u32 = 64u;
override COT: u32 = 8u;   // output channels per invocation (weightGrad: lhs channels), multiple of 4
override XV: u32 = 1u;    // vec4s of positions along W per invocation
override ROW: u32 = 0u;   // 1: aligned fast path, using the five constants below
override TW: u32 = 1u;    // taps along W
override SWI: u32 = 1u;   // source stride along W
override DWI: u32 = 1u;   // source dilation along W
override OFFMOD: u32 = 0u; // first source position of a row segment, mod 4
override NV: u32 = 1u;    // vec4s per row segment
override BIAS: u32 = 0u;

struct ConvParams {
  total: u32,
  channels: u32,     // source channels (summed over)
  outChannels: u32,
  blocks: u32,       // ceil(outChannels / COT)
  srcSize: vec4<u32>,  // D, H, W, W / 4
  outSize: vec4<u32>,  // D, H, W
  count: vec4<u32>,    // positions of this phase per dimension; w: tiles along W
  taps: vec4<u32>,
  outStride: vec4<u32>,
  outPhase: vec4<u32>,
  srcStride: vec4<i32>,
  srcOffset: vec4<i32>,
  srcDil: vec4<i32>,
}

struct RepackParams {
  total: u32,
  channels: u32,
  outChannels: u32,
  strideOut: u32,    // weight element stride of an output channel
  strideIn: u32,     // ... of a source channel
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  taps: vec4<u32>,
  kernel: vec4<u32>,
  tapBase: vec4<i32>,  // kernel tap of t = 0 per dimension
  tapStep: vec4<i32>,  // kernel tap step per t (−1 flips)
}

struct GradParams {
  total: u32,
  rows: u32,         // N · D · H of lhs
  chunkRows: u32,
  tapTiles: u32,
  lhsSize: vec4<u32>,  // A, D, H, W
  srcSize: vec4<u32>,  // B, D, H, W
  kernel: vec4<u32>,   // kD, kH, kW, blocks of A
  stride: vec4<i32>,
  padding: vec4<i32>,
  dilation: vec4<i32>,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> src4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> packed4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> cp: ConvParams;

@group(0) @binding(6) var<storage, read> weight: array<f32>;
@group(0) @binding(7) var<storage, read_write> packed: array<f32>;
@group(0) @binding(8) var<uniform> rp: RepackParams;

@group(0) @binding(9) var<storage, read> lhs: array<f32>;
@group(0) @binding(10) var<storage, read> lhs4: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read_write> partial: array<f32>;
@group(0) @binding(12) var<uniform> gp: GradParams;

alias Row = array<f32, MAXF>;

// NV vec4s of a source row from vec4 index `first` on (zeros outside [0, len4): padding).
fn loadRow(rowStart4: u32, first: i32, len4: i32) -> Row {
  var r: Row;
  for (var v = 0u; v < NV; v++) {
    let c = first + i32(v);
    let inside = c >= 0 && c < len4;
    let q = select(vec4<f32>(0.0), src4[rowStart4 + u32(select(0, c, inside))], inside);
    r[4u * v] = q.x;
    r[4u * v + 1u] = q.y;
    r[4u * v + 2u] = q.z;
    r[4u * v + 3u] = q.w;
  }
  return r;
}

// Four positions SWI apart from row index i.
fn rowTap(r: ptr<function, Row>, i: u32) -> vec4<f32> {
  return vec4<f32>((*r)[i], (*r)[i + SWI], (*r)[i + 2u * SWI], (*r)[i + 3u * SWI]);
}

fn srcAt(rowStart: u32, pos: i32, len: i32) -> f32 {
  let inside = pos >= 0 && pos < len;
  return select(0.0, src[rowStart + u32(select(0, pos, inside))], inside);
}

alias Acc = array<vec4<f32>, MAXACC>;
alias XTile = array<vec4<f32>, MAXXV>;

// acc[u][v] += w[u] · x[v] for the COT weights of one tap.
fn fmaTile(acc: ptr<function, Acc>, tap: u32, xs: ptr<function, XTile>) {
  for (var q = 0u; q < COT / 4u; q++) {
    let w = packed4[tap * (COT / 4u) + q];
    for (var v = 0u; v < XV; v++) {
      let x = (*xs)[v];
      let a = 4u * q * XV + v;
      (*acc)[a] = fma(vec4<f32>(w.x), x, (*acc)[a]);
      (*acc)[a + XV] = fma(vec4<f32>(w.y), x, (*acc)[a + XV]);
      (*acc)[a + 2u * XV] = fma(vec4<f32>(w.z), x, (*acc)[a + 2u * XV]);
      (*acc)[a + 3u * XV] = fma(vec4<f32>(w.w), x, (*acc)[a + 3u * XV]);
    }
  }
}

@compute @workgroup_size(WG)
fn convolve(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= cp.total) { return; }
  let wt = t % cp.count.w;
  var rest = t / cp.count.w;
  let qh = rest % cp.count.y;
  rest = rest / cp.count.y;
  let qd = rest % cp.count.x;
  rest = rest / cp.count.x;
  let cb = rest % cp.blocks;
  let n = rest / cp.blocks;
  let m0 = wt * 4u * XV;

  var acc: Acc;
  for (var u = 0u; u < COT; u++) {
    let co = cb * COT + u;
    var b = 0.0;
    if (BIAS == 1u) { b = select(0.0, bias[min(co, cp.outChannels - 1u)], co < cp.outChannels); }
    for (var v = 0u; v < XV; v++) { acc[u * XV + v] = vec4<f32>(b); }
  }

  let size = vec3<i32>(cp.srcSize.xyz);
  let sd0 = i32(qd) * cp.srcStride.x + cp.srcOffset.x;
  let sh0 = i32(qh) * cp.srcStride.y + cp.srcOffset.y;
  let sw0 = i32(m0) * cp.srcStride.z + cp.srcOffset.z;
  var xs: XTile;
  for (var c = 0u; c < cp.channels; c++) {
    let plane = (n * cp.channels + c) * cp.srcSize.x;
    for (var td = 0u; td < cp.taps.x; td++) {
      let sd = sd0 + i32(td) * cp.srcDil.x;
      if (sd < 0 || sd >= size.x) { continue; }
      for (var th = 0u; th < cp.taps.y; th++) {
        let sh = sh0 + i32(th) * cp.srcDil.y;
        if (sh < 0 || sh >= size.y) { continue; }
        let rowStart = ((plane + u32(sd)) * cp.srcSize.y + u32(sh)) * cp.srcSize.z;
        let tap0 = (((cb * cp.channels + c) * cp.taps.x + td) * cp.taps.y + th) * cp.taps.z;
        if (ROW == 1u) {
          var row = loadRow(rowStart / 4u, (sw0 - i32(OFFMOD)) / 4, i32(cp.srcSize.w));
          for (var tw = 0u; tw < TW; tw++) {
            for (var v = 0u; v < XV; v++) { xs[v] = rowTap(&row, OFFMOD + 4u * v * SWI + tw * DWI); }
            fmaTile(&acc, tap0 + tw, &xs);
          }
        } else {
          for (var tw = 0u; tw < cp.taps.z; tw++) {
            let p0 = sw0 + i32(tw) * cp.srcDil.z;
            for (var v = 0u; v < XV; v++) {
              let p = p0 + i32(4u * v) * cp.srcStride.z;
              let s = cp.srcStride.z;
              xs[v] = vec4<f32>(srcAt(rowStart, p, size.z), srcAt(rowStart, p + s, size.z),
                                srcAt(rowStart, p + 2 * s, size.z), srcAt(rowStart, p + 3 * s, size.z));
            }
            fmaTile(&acc, tap0 + tw, &xs);
          }
        }
      }
    }
  }

  let od = cp.outPhase.x + cp.outStride.x * qd;
  let oh = cp.outPhase.y + cp.outStride.y * qh;
  for (var u = 0u; u < COT; u++) {
    let co = cb * COT + u;
    if (co >= cp.outChannels) { break; }
    let base = (((n * cp.outChannels + co) * cp.outSize.x + od) * cp.outSize.y + oh) * cp.outSize.z + cp.outPhase.z;
    for (var v = 0u; v < XV; v++) {
      let a = acc[u * XV + v];
      for (var e = 0u; e < 4u; e++) {
        let q = m0 + 4u * v + e;
        if (q < cp.count.z) { out[base + cp.outStride.z * q] = a[e]; }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn repack(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= rp.total) { return; }
  let u = i % COT;
  var rest = i / COT;
  let tw = rest % rp.taps.z;
  rest = rest / rp.taps.z;
  let th = rest % rp.taps.y;
  rest = rest / rp.taps.y;
  let td = rest % rp.taps.x;
  rest = rest / rp.taps.x;
  let c = rest % rp.channels;
  let co = (rest / rp.channels) * COT + u;
  if (co >= rp.outChannels) {
    packed[i] = 0.0;
    return;
  }
  let k = vec3<u32>(rp.tapBase.xyz + vec3<i32>(vec3<u32>(td, th, tw)) * rp.tapStep.xyz);
  packed[i] = weight[co * rp.strideOut + c * rp.strideIn + (k.x * rp.kernel.y + k.y) * rp.kernel.z + k.z];
}

fn lhsAt(i: u32, inside: bool) -> f32 {
  return select(0.0, lhs[select(0u, i, inside)], inside);
}

@compute @workgroup_size(WG)
fn weightGrad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= gp.total) { return; }
  let b = t % gp.srcSize.x;
  var rest = t / gp.srcSize.x;
  let tap = rest % gp.tapTiles;
  rest = rest / gp.tapTiles;
  let ab = rest % gp.kernel.w;
  let chunk = rest / gp.kernel.w;
  // Fast path: all taps along W in registers; otherwise one tap per invocation.
  var kw = 0u;
  var khd = tap;
  if (ROW == 0u) {
    kw = tap % gp.kernel.z;
    khd = tap / gp.kernel.z;
  }
  let kh = khd % gp.kernel.y;
  let kd = khd / gp.kernel.y;
  let a0 = ab * COT;
  let plane = gp.lhsSize.y * gp.lhsSize.z * gp.lhsSize.w;
  let srcW = i32(gp.srcSize.w);

  var acc: array<f32, MAXGACC>;
  let rowEnd = min(gp.rows, (chunk + 1u) * gp.chunkRows);
  for (var r = chunk * gp.chunkRows; r < rowEnd; r++) {
    let oh = r % gp.lhsSize.z;
    let r2 = r / gp.lhsSize.z;
    let od = r2 % gp.lhsSize.y;
    let n = r2 / gp.lhsSize.y;
    let sd = i32(od) * gp.stride.x - gp.padding.x + i32(kd) * gp.dilation.x;
    let sh = i32(oh) * gp.stride.y - gp.padding.y + i32(kh) * gp.dilation.y;
    if (sd < 0 || sd >= i32(gp.srcSize.y) || sh < 0 || sh >= i32(gp.srcSize.z)) { continue; }
    let srcRow = (((n * gp.srcSize.x + b) * gp.srcSize.y + u32(sd)) * gp.srcSize.z + u32(sh)) * gp.srcSize.w;
    let lhsRow = (((n * gp.lhsSize.x + a0) * gp.lhsSize.y + od) * gp.lhsSize.z + oh) * gp.lhsSize.w;
    if (ROW == 1u) {
      for (var w4 = 0u; w4 < gp.lhsSize.w / 4u; w4++) {
        let first = i32(4u * w4) * gp.stride.z - gp.padding.z;
        var row = loadRow(srcRow / 4u, (first - i32(OFFMOD)) / 4, srcW / 4);
        for (var a = 0u; a < COT; a++) {
          let inside = a0 + a < gp.lhsSize.x;
          let g = select(vec4<f32>(0.0), lhs4[select(0u, (lhsRow + a * plane) / 4u + w4, inside)], inside);
          for (var tw = 0u; tw < TW; tw++) {
            acc[a * TW + tw] += dot(g, rowTap(&row, OFFMOD + tw * DWI));
          }
        }
      }
    } else {
      for (var ow = 0u; ow < gp.lhsSize.w; ow++) {
        let x = srcAt(srcRow, i32(ow) * gp.stride.z - gp.padding.z + i32(kw) * gp.dilation.z, srcW);
        for (var a = 0u; a < COT; a++) {
          acc[a] = fma(lhsAt(lhsRow + a * plane + ow, a0 + a < gp.lhsSize.x), x, acc[a]);
        }
      }
    }
  }

  let taps = gp.kernel.x * gp.kernel.y * gp.kernel.z;
  let tapsW = select(1u, TW, ROW == 1u);
  for (var a = 0u; a < COT; a++) {
    if (a0 + a >= gp.lhsSize.x) { break; }
    let base = ((chunk * gp.lhsSize.x + a0 + a) * gp.srcSize.x + b) * taps + (kd * gp.kernel.y + kh) * gp.kernel.z + kw;
    for (var tw = 0u; tw < tapsW; tw++) { partial[base + tw] = acc[a * tapsW + tw]; }
  }
}
