// The register family: 3D convolution, forward and backward, for conv3d and convTranspose3d on
// software adapters (src/ops/conv/register.ts maps each pass onto these entries):
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
// load is a per-lane loop (llvmpipe: one loop per load instruction, so a vec4 load costs about
// what a scalar one does): the cost is in load instructions, not FMAs. So each invocation keeps
// a register tile (convolve: COT output channels × HT rows × 4·XV positions along W; weightGrad:
// COT channels × KHT × TW taps) and, on the fast path (ROW = 1: rows 16-byte aligned), reads each
// source row once as NV vec4s, reusing it for every tap along W by shifting it DWI elements per
// tap, so all row indices are constants without unrolling the tap loop. No workgroup memory, no
// barriers, loops left as loops (the only unrolled ones are the fixed-size tile loops below).

// Register arrays have these fixed sizes, and every loop over them runs to the fixed size with the
// override bound as a guard inside: Mesa's NIR then always unrolls it (a loop whose counter indexes
// an array of its trip count) and keeps the tile in registers. A loop it does not unroll turns
// the whole tile into memory traffic, 5-10x slower.
const MAXCO: u32 = 16u;   // COT at most
const MAXCO4: u32 = 4u;   // MAXCO / 4
const MAXXV: u32 = 4u;    // XV at most
const MAXHT: u32 = 4u;    // HT at most
const MAXV: u32 = 8u;     // vec4s in a row buffer
const MAXTW: u32 = 8u;    // TW at most on the weightGrad fast path
const MAXKHT: u32 = 8u;   // KHT at most

override WG: u32 = 64u;
override COT: u32 = 8u;   // output channels per invocation (weightGrad: lhs channels), multiple of 4
override XV: u32 = 1u;    // vec4s of positions along W per invocation
override HT: u32 = 1u;    // output rows (along H) per invocation
override ROW: u32 = 0u;   // 1: aligned fast path, using the five constants below
override TW: u32 = 1u;    // taps along W
override SWI: u32 = 1u;   // source stride along W
override DWI: u32 = 1u;   // source dilation along W
override OFFMOD: u32 = 0u; // first source position of a row segment, mod 4
override NV: u32 = 1u;    // vec4s per row segment
override BIAS: u32 = 0u;
override KHT: u32 = 1u;   // weightGrad fast path: taps along H per invocation

struct ConvParams {
  total: u32,
  channels: u32,     // source channels (summed over)
  outChannels: u32,
  blocks: u32,       // ceil(outChannels / COT)
  tiles: u32,        // tiles of HT rows along H
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
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

alias Row = array<vec4<f32>, MAXV>;

// NV vec4s of a source row from vec4 index `first` on (zeros outside [0, len4): padding).
fn loadRow(rowStart4: u32, first: i32, len4: i32) -> Row {
  var r: Row;
  for (var v = 0u; v < MAXV; v++) {
    let c = first + i32(v);
    let inside = v < NV && c >= 0 && c < len4;
    if (v < NV) { r[v] = select(vec4<f32>(0.0), src4[rowStart4 + u32(select(0, c, inside))], inside); }
  }
  return r;
}

// Four positions SWI apart from element i of the row (i folds to a constant once the caller's
// small loops unroll).
fn rowTap(r: ptr<function, Row>, i: u32) -> vec4<f32> {
  let j = vec4<u32>(i, i + SWI, i + 2u * SWI, i + 3u * SWI);
  return vec4<f32>((*r)[j.x / 4u][j.x % 4u], (*r)[j.y / 4u][j.y % 4u], (*r)[j.z / 4u][j.z % 4u], (*r)[j.w / 4u][j.w % 4u]);
}

// Moves the row DWI elements to the left: the next tap along W reads the same constant indices,
// so the tap loop needs no unrolling (an unrolled tap loop with large tiles defeats the compiler).
fn nextTap(r: ptr<function, Row>) {
  for (var s = 0u; s < DWI; s++) {
    for (var v = 0u; v < MAXV; v++) {
      if (v < NV) { (*r)[v] = vec4<f32>((*r)[v].yzw, select(0.0, (*r)[min(v + 1u, MAXV - 1u)].x, v + 1u < NV)); }
    }
  }
}

fn srcAt(rowStart: u32, pos: i32, len: i32) -> f32 {
  let inside = pos >= 0 && pos < len;
  return select(0.0, src[rowStart + u32(select(0, pos, inside))], inside);
}

// Positions of a tile: HT output rows × XV vec4s along W.
alias XTile = array<array<vec4<f32>, MAXXV>, MAXHT>;
alias Acc = array<XTile, MAXCO>;

// acc[u] += w[u] · x for the COT weights of one tap: each weight load serves HT·XV vec4s.
fn fmaTile(acc: ptr<function, Acc>, tap: u32, xs: ptr<function, XTile>) {
  var w: array<vec4<f32>, MAXCO4>;
  for (var q = 0u; q < MAXCO4; q++) {
    if (q < COT / 4u) { w[q] = packed4[tap * (COT / 4u) + q]; }
  }
  for (var u = 0u; u < MAXCO; u++) {
    if (u >= COT) { continue; }
    let wu = vec4<f32>(w[u / 4u][u % 4u]);
    for (var r = 0u; r < MAXHT; r++) {
      for (var v = 0u; v < MAXXV; v++) {
        if (r < HT && v < XV) { (*acc)[u][r][v] = fma(wu, (*xs)[r][v], (*acc)[u][r][v]); }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn convolve(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= cp.total) { return; }
  let wt = t % cp.count.w;
  var rest = t / cp.count.w;
  let ht = rest % cp.tiles;
  rest = rest / cp.tiles;
  let qd = rest % cp.count.x;
  rest = rest / cp.count.x;
  let cb = rest % cp.blocks;
  let n = rest / cp.blocks;
  let m0 = wt * 4u * XV;
  let qh0 = ht * HT;

  var acc: Acc;
  for (var u = 0u; u < MAXCO; u++) {
    let co = cb * COT + u;
    var b = 0.0;
    if (BIAS == 1u && u < COT) { b = select(0.0, bias[min(co, cp.outChannels - 1u)], co < cp.outChannels); }
    for (var r = 0u; r < MAXHT; r++) {
      for (var v = 0u; v < MAXXV; v++) { acc[u][r][v] = vec4<f32>(b); }
    }
  }

  let size = vec3<i32>(cp.srcSize.xyz);
  let sd0 = i32(qd) * cp.srcStride.x + cp.srcOffset.x;
  let sh0 = i32(qh0) * cp.srcStride.y + cp.srcOffset.y;
  let sw0 = i32(m0) * cp.srcStride.z + cp.srcOffset.z;
  var xs: XTile;
  var rows: array<Row, MAXHT>;
  var rowStart: array<u32, MAXHT>;
  var rowLen: array<i32, MAXHT>;
  for (var c = 0u; c < cp.channels; c++) {
    let plane = (n * cp.channels + c) * cp.srcSize.x;
    for (var td = 0u; td < cp.taps.x; td++) {
      let sd = sd0 + i32(td) * cp.srcDil.x;
      if (sd < 0 || sd >= size.x) { continue; }
      for (var th = 0u; th < cp.taps.y; th++) {
        // Source rows of the HT output rows; a row outside the volume (or past the last output
        // row) reads as length 0, i.e. zeros.
        for (var r = 0u; r < MAXHT; r++) {
          let sh = sh0 + i32(r) * cp.srcStride.y + i32(th) * cp.srcDil.y;
          let inside = r < HT && qh0 + r < cp.count.y && sh >= 0 && sh < size.y;
          rowStart[r] = ((plane + u32(sd)) * cp.srcSize.y + u32(select(0, sh, inside))) * cp.srcSize.z;
          rowLen[r] = select(0, size.z, inside);
        }
        let tap0 = (((cb * cp.channels + c) * cp.taps.x + td) * cp.taps.y + th) * cp.taps.z;
        if (ROW == 1u) {
          for (var r = 0u; r < MAXHT; r++) {
            if (r < HT) { rows[r] = loadRow(rowStart[r] / 4u, (sw0 - i32(OFFMOD)) / 4, rowLen[r] / 4); }
          }
          for (var tw = 0u; tw < TW; tw++) {
            for (var r = 0u; r < MAXHT; r++) {
              for (var v = 0u; v < MAXXV; v++) {
                if (r < HT && v < XV) { xs[r][v] = rowTap(&rows[r], OFFMOD + 4u * v * SWI); }
              }
              if (r < HT) { nextTap(&rows[r]); }
            }
            fmaTile(&acc, tap0 + tw, &xs);
          }
        } else {
          let s = cp.srcStride.z;
          for (var tw = 0u; tw < cp.taps.z; tw++) {
            for (var r = 0u; r < MAXHT; r++) {
              for (var v = 0u; v < MAXXV; v++) {
                let p = sw0 + i32(tw) * cp.srcDil.z + i32(4u * v) * s;
                let len = rowLen[r];
                if (r < HT && v < XV) {
                  xs[r][v] = vec4<f32>(srcAt(rowStart[r], p, len), srcAt(rowStart[r], p + s, len),
                                       srcAt(rowStart[r], p + 2 * s, len), srcAt(rowStart[r], p + 3 * s, len));
                }
              }
            }
            fmaTile(&acc, tap0 + tw, &xs);
          }
        }
      }
    }
  }

  let od = cp.outPhase.x + cp.outStride.x * qd;
  for (var u = 0u; u < MAXCO; u++) {
    let co = cb * COT + u;
    for (var r = 0u; r < MAXHT; r++) {
      let oh = cp.outPhase.y + cp.outStride.y * (qh0 + r);
      let base = (((n * cp.outChannels + co) * cp.outSize.x + od) * cp.outSize.y + oh) * cp.outSize.z + cp.outPhase.z;
      for (var v = 0u; v < MAXXV; v++) {
        let a = acc[u][r][v];
        for (var e = 0u; e < 4u; e++) {
          let q = m0 + 4u * v + e;
          let inside = u < COT && r < HT && v < XV && co < cp.outChannels && qh0 + r < cp.count.y && q < cp.count.z;
          if (inside) { out[base + cp.outStride.z * q] = a[e]; }
        }
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
  // Fast path: a tile of KHT taps along H times all taps along W, which share each lhs load;
  // otherwise one tap per invocation.
  var kw = 0u;
  var kh0 = 0u;
  var kd = 0u;
  if (ROW == 1u) {
    let khBlocks = (gp.kernel.y + KHT - 1u) / KHT;
    kh0 = (tap % khBlocks) * KHT;
    kd = tap / khBlocks;
  } else {
    kw = tap % gp.kernel.z;
    kh0 = (tap / gp.kernel.z) % gp.kernel.y;
    kd = tap / (gp.kernel.z * gp.kernel.y);
  }
  let a0 = ab * COT;
  let plane = gp.lhsSize.y * gp.lhsSize.z * gp.lhsSize.w;
  let srcW = i32(gp.srcSize.w);

  var acc: array<array<array<f32, MAXTW>, MAXKHT>, MAXCO>;
  let rowEnd = min(gp.rows, (chunk + 1u) * gp.chunkRows);
  for (var r = chunk * gp.chunkRows; r < rowEnd; r++) {
    let oh = r % gp.lhsSize.z;
    let r2 = r / gp.lhsSize.z;
    let od = r2 % gp.lhsSize.y;
    let n = r2 / gp.lhsSize.y;
    let sd = i32(od) * gp.stride.x - gp.padding.x + i32(kd) * gp.dilation.x;
    if (sd < 0 || sd >= i32(gp.srcSize.y)) { continue; }
    let srcPlane = ((n * gp.srcSize.x + b) * gp.srcSize.y + u32(sd)) * gp.srcSize.z;
    let sh0 = i32(oh) * gp.stride.y - gp.padding.y + i32(kh0) * gp.dilation.y;
    let lhsRow = (((n * gp.lhsSize.x + a0) * gp.lhsSize.y + od) * gp.lhsSize.z + oh) * gp.lhsSize.w;
    if (ROW == 1u) {
      for (var w4 = 0u; w4 < gp.lhsSize.w / 4u; w4++) {
        let first = (i32(4u * w4) * gp.stride.z - gp.padding.z - i32(OFFMOD)) / 4;
        var rows: array<Row, MAXKHT>;
        for (var j = 0u; j < MAXKHT; j++) {
          let sh = sh0 + i32(j) * gp.dilation.y;
          let inside = j < KHT && kh0 + j < gp.kernel.y && sh >= 0 && sh < i32(gp.srcSize.z);
          // An empty row length reads zeros for taps outside the kernel or the volume.
          rows[j] = loadRow((srcPlane + u32(select(0, sh, inside))) * gp.srcSize.w / 4u, first, select(0, srcW / 4, inside));
        }
        for (var a = 0u; a < MAXCO; a++) {
          if (a >= COT) { continue; }
          let inside = a0 + a < gp.lhsSize.x;
          let g = select(vec4<f32>(0.0), lhs4[select(0u, (lhsRow + a * plane) / 4u + w4, inside)], inside);
          for (var j = 0u; j < MAXKHT; j++) {
            if (j >= KHT) { continue; }
            var shifted = rows[j];
            for (var tw = 0u; tw < MAXTW; tw++) {
              if (tw < TW) {
                acc[a][j][tw] += dot(g, rowTap(&shifted, OFFMOD));
                nextTap(&shifted);
              }
            }
          }
        }
      }
    } else if (sh0 >= 0 && sh0 < i32(gp.srcSize.z)) {
      let srcRow = (srcPlane + u32(sh0)) * gp.srcSize.w;
      for (var ow = 0u; ow < gp.lhsSize.w; ow++) {
        let x = srcAt(srcRow, i32(ow) * gp.stride.z - gp.padding.z + i32(kw) * gp.dilation.z, srcW);
        for (var a = 0u; a < MAXCO; a++) {
          if (a < COT) { acc[a][0][0] = fma(lhsAt(lhsRow + a * plane + ow, a0 + a < gp.lhsSize.x), x, acc[a][0][0]); }
        }
      }
    }
  }

  let taps = gp.kernel.x * gp.kernel.y * gp.kernel.z;
  let tapsH = select(1u, KHT, ROW == 1u);
  let tapsW = select(1u, TW, ROW == 1u);
  for (var a = 0u; a < MAXCO; a++) {
    for (var j = 0u; j < MAXKHT; j++) {
      let base = ((chunk * gp.lhsSize.x + a0 + a) * gp.srcSize.x + b) * taps + (kd * gp.kernel.y + kh0 + j) * gp.kernel.z + kw;
      for (var tw = 0u; tw < MAXTW; tw++) {
        if (a < COT && j < tapsH && kh0 + j < gp.kernel.y && tw < tapsW && a0 + a < gp.lhsSize.x) { partial[base + tw] = acc[a][j][tw]; }
      }
    }
  }
}
