// The register family's block path, for software adapters: convolutions whose stride equals their
// kernel size (a block of KD × KH × KW taps) with no padding or dilation: V-Net's 2×2×2 stride-2
// down and up convolutions, and 1×1×1 ones. The blocks tile the big tensor (conv3d's input,
// convTranspose3d's output) without overlap, one block per voxel q of the small tensor, so each
// pass is a plain matrix product per voxel (src/ops/conv/block.ts maps both ops' passes onto these
// entries):
// - `gather`: out[n, o, q] = bias[o] + Σ_{c,t} weight[o, c, t] · big[n, c, q·k + t]: conv3d forward,
//   convTranspose3d's input gradient. Big-tensor voxels past the last whole block are never used.
// - `scatter` (`scatterElements` for unaligned rows): out[n, o, q·k + t] = bias[o] +
//   Σ_c weight[c, o, t] · small[n, c, q]: convTranspose3d forward, conv3d's input gradient.
//   Big-tensor voxels past the last whole block are not written.
// - `weightGrad`: partial[chunk, a, b, t] = Σ over a chunk of small-tensor rows (n, qd, qh) of
//   small[n, a, q] · big[n, b, q·k + t]; the op sums the chunks.
//
// The cost model is register.wgsl's (its header explains it): on llvmpipe loads cost and FMAs are
// cheap, so each invocation keeps a register tile in fixed-size arrays whose loops run to the fixed
// size with override guards (Mesa unrolls them), with no workgroup memory. The small tensor comes
// in quads of 4 voxels along W, whose blocks are 4·KW adjacent elements of a big-tensor row: one
// vec4 load per small-tensor quad, KW per big-tensor span, dealt out per tap. Weights are read in
// their own layout, no repack dispatch (scatter's tile, channels × taps, is one run there). ALIGNED
// = 1 when the rows of both tensors are 16-byte aligned (W a multiple of 4 in each); otherwise the
// same tiles are loaded one element at a time, and scatterElements stores them so.

const MAXM: u32 = 16u;    // tile rows at most: CT (gather), CT·taps (scatter, weightGrad)
const MAXXV: u32 = 4u;    // XV at most
const MAXHT: u32 = 4u;    // HT at most
const MAXKW: u32 = 4u;    // KW at most
const MAXSPAN: u32 = 8u;  // vec4s of a big-tensor span: KW·XV at most
const MAXA: u32 = 8u;     // AT at most

override WG: u32 = 64u;
override KD: u32 = 1u;
override KH: u32 = 1u;
override KW: u32 = 1u;
override CT: u32 = 1u;    // channels per tile: output channels (gather, scatter), big-tensor ones (weightGrad)
override XV: u32 = 1u;    // quads along W per invocation
override HT: u32 = 1u;    // small-tensor rows along H per invocation
override AT: u32 = 1u;    // weightGrad: small-tensor channels per invocation
override ALIGNED: u32 = 0u;
override WVEC: u32 = 0u;  // scatter: 1 when its weight runs are 16-byte aligned, read as vec4s
override BIAS: u32 = 0u;

struct BlockParams {
  total: u32,
  channels: u32,     // source channels (summed over)
  outChannels: u32,
  blocks: u32,       // tiles of CT output channels
  tiles: u32,        // tiles of HT rows along H
  wTiles: u32,       // tiles of XV quads along W
  _pad0: u32,
  _pad1: u32,
  small: vec4<u32>,  // D, H, W of the small tensor
  big: vec4<u32>,    // D, H, W of the big tensor
}

struct GradParams {
  total: u32,
  rows: u32,         // N · D · H of the small tensor
  chunkRows: u32,
  tiles: u32,        // aBlocks · bBlocks
  aChannels: u32,    // small-tensor channels
  bChannels: u32,    // big-tensor channels
  bBlocks: u32,
  _pad0: u32,
  small: vec4<u32>,
  big: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> big: array<f32>;
@group(0) @binding(1) var<storage, read> big4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> small: array<f32>;
@group(0) @binding(3) var<storage, read> small4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> weight4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> bias: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> out4: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read_write> partial: array<f32>;
@group(0) @binding(10) var<uniform> bp: BlockParams;
@group(0) @binding(11) var<uniform> gp: GradParams;

fn taps() -> u32 {
  return KD * KH * KW;
}

alias Span = array<vec4<f32>, MAXSPAN>;

fn bigAt(rowStart: u32, p: u32, len: u32) -> f32 {
  return select(0.0, big[select(0u, rowStart + p, p < len)], p < len);
}

// KW·XV vec4s of a big-tensor row from element `first` (a multiple of 4 when ALIGNED), zeros from
// `len` on (0 for a row outside the volume).
fn span(rowStart: u32, first: u32, len: u32) -> Span {
  var s: Span;
  for (var i = 0u; i < MAXSPAN; i++) {
    let p = first + 4u * i;
    if (i >= KW * XV) {
      continue;
    } else if (ALIGNED == 1u) {
      s[i] = select(vec4<f32>(0.0), big4[select(0u, (rowStart + p) / 4u, p < len)], p < len);
    } else {
      s[i] = vec4<f32>(bigAt(rowStart, p, len), bigAt(rowStart, p + 1u, len), bigAt(rowStart, p + 2u, len), bigAt(rowStart, p + 3u, len));
    }
  }
  return s;
}

// Span elements i, i + KW, i + 2·KW, i + 3·KW: one tap of a quad's 4 blocks (i folds to a constant
// once the caller's loops unroll).
fn deal(s: ptr<function, Span>, i: u32) -> vec4<f32> {
  let j = vec4<u32>(i, i + KW, i + 2u * KW, i + 3u * KW);
  return vec4<f32>((*s)[j.x / 4u][j.x % 4u], (*s)[j.y / 4u][j.y % 4u], (*s)[j.z / 4u][j.z % 4u], (*s)[j.w / 4u][j.w % 4u]);
}

// Moves the span one element to the left, so the next tap along W deals from the same constant
// indices and the tap loop needs no unrolling (as register.wgsl's nextTap).
fn shiftSpan(s: ptr<function, Span>) {
  for (var i = 0u; i < MAXSPAN; i++) {
    if (i < KW * XV) { (*s)[i] = vec4<f32>((*s)[i].yzw, select(0.0, (*s)[min(i + 1u, MAXSPAN - 1u)].x, i + 1u < KW * XV)); }
  }
}

fn smallAt(rowStart: u32, q: u32, len: u32) -> f32 {
  return select(0.0, small[select(0u, rowStart + q, q < len)], q < len);
}

// Voxels q .. q + 3 of a small-tensor row (q a multiple of 4), zeros from `len` on.
fn quad(rowStart: u32, q: u32, len: u32) -> vec4<f32> {
  if (ALIGNED == 1u) {
    return select(vec4<f32>(0.0), small4[select(0u, (rowStart + q) / 4u, q < len)], q < len);
  }
  return vec4<f32>(smallAt(rowStart, q, len), smallAt(rowStart, q + 1u, len), smallAt(rowStart, q + 2u, len), smallAt(rowStart, q + 3u, len));
}

// The small-tensor positions of a gather or scatter tile: HT rows × XV quads from (qd, qh0, q0),
// for output channels o0 .. o0 + CT − 1.
struct Tile {
  n: u32,
  o0: u32,
  qd: u32,
  qh0: u32,
  q0: u32,
}

fn tileAt(t: u32) -> Tile {
  let wt = t % bp.wTiles;
  var rest = t / bp.wTiles;
  let ht = rest % bp.tiles;
  rest = rest / bp.tiles;
  let qd = rest % bp.small.x;
  rest = rest / bp.small.x;
  return Tile(rest / bp.blocks, (rest % bp.blocks) * CT, qd, ht * HT, wt * 4u * XV);
}

alias XTile = array<array<vec4<f32>, MAXXV>, MAXHT>;
alias Acc = array<XTile, MAXM>;

// Tile row m starts at the bias of output channel o0 + m / per (0 without bias or past the last).
fn initAcc(acc: ptr<function, Acc>, o0: u32, per: u32) {
  for (var m = 0u; m < MAXM; m++) {
    let o = o0 + m / per;
    var b = 0.0;
    if (BIAS == 1u && m < CT * per) { b = select(0.0, bias[min(o, bp.outChannels - 1u)], o < bp.outChannels); }
    for (var r = 0u; r < MAXHT; r++) {
      for (var v = 0u; v < MAXXV; v++) { (*acc)[m][r][v] = vec4<f32>(b); }
    }
  }
}

// acc[m] += w[m] · xs for the first `rows` tile rows.
fn fmaTile(acc: ptr<function, Acc>, w: ptr<function, array<f32, MAXM>>, xs: ptr<function, XTile>, rows: u32) {
  for (var m = 0u; m < MAXM; m++) {
    if (m >= rows) { continue; }
    let wm = vec4<f32>((*w)[m]);
    for (var r = 0u; r < MAXHT; r++) {
      for (var v = 0u; v < MAXXV; v++) {
        if (r < HT && v < XV) { (*acc)[m][r][v] = fma(wm, (*xs)[r][v], (*acc)[m][r][v]); }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= bp.total) { return; }
  let tl = tileAt(t);
  let C = bp.channels;
  let K = taps();
  var acc: Acc;
  initAcc(&acc, tl.o0, 1u);

  var spans: array<Span, MAXHT>;
  var xs: XTile;
  var w: array<f32, MAXM>;
  for (var c = 0u; c < C; c++) {
    for (var td = 0u; td < KD; td++) {
      for (var th = 0u; th < KH; th++) {
        for (var r = 0u; r < MAXHT; r++) {
          let qh = tl.qh0 + r;
          let inside = r < HT && qh < bp.small.y;
          let row = (((tl.n * C + c) * bp.big.x + tl.qd * KD + td) * bp.big.y + select(0u, qh * KH + th, inside)) * bp.big.z;
          if (r < HT) { spans[r] = span(row, tl.q0 * KW, select(0u, bp.big.z, inside)); }
        }
        for (var tw = 0u; tw < KW; tw++) {
          // One scalar load per channel: measured faster than a vec4 of four taps' weights kept
          // across the tap loop (its dynamic component index costs more than the loads).
          let tap = (td * KH + th) * KW + tw;
          for (var u = 0u; u < MAXM; u++) {
            if (u < CT) { w[u] = weight[(min(tl.o0 + u, bp.outChannels - 1u) * C + c) * K + tap]; }
          }
          for (var r = 0u; r < MAXHT; r++) {
            for (var v = 0u; v < MAXXV; v++) {
              if (r < HT && v < XV) { xs[r][v] = deal(&spans[r], 4u * KW * v); }
            }
            if (r < HT) { shiftSpan(&spans[r]); }
          }
          fmaTile(&acc, &w, &xs, CT);
        }
      }
    }
  }

  for (var u = 0u; u < MAXM; u++) {
    let o = tl.o0 + u;
    for (var r = 0u; r < MAXHT; r++) {
      let qh = tl.qh0 + r;
      let row = (((tl.n * bp.outChannels + o) * bp.small.x + tl.qd) * bp.small.y + qh) * bp.small.z;
      for (var v = 0u; v < MAXXV; v++) {
        let a = acc[u][r][v];
        for (var e = 0u; e < 4u; e++) {
          let q = tl.q0 + 4u * v + e;
          if (u < CT && r < HT && v < XV && o < bp.outChannels && qh < bp.small.y && q < bp.small.z) { out[row + q] = a[e]; }
        }
      }
    }
  }
}

// The scatter entries' tile of invocation t: row m is output channel o0 + m / K at tap m % K.
fn scatterTile(t: u32, acc: ptr<function, Acc>) -> Tile {
  let tl = tileAt(t);
  let C = bp.channels;
  let K = taps();
  let rows = CT * K;
  initAcc(acc, tl.o0, K);

  var xs: XTile;
  var w: array<f32, MAXM>;
  for (var c = 0u; c < C; c++) {
    for (var r = 0u; r < MAXHT; r++) {
      let qh = tl.qh0 + r;
      let inside = r < HT && qh < bp.small.y;
      let row = (((tl.n * C + c) * bp.small.x + tl.qd) * bp.small.y + select(0u, qh, inside)) * bp.small.z;
      for (var v = 0u; v < MAXXV; v++) {
        if (r < HT && v < XV) { xs[r][v] = quad(row, tl.q0 + 4u * v, select(0u, bp.small.z, inside)); }
      }
    }
    // weight[c, o0 .. o0 + CT − 1, all taps] is one run; what lies past channel c's end is zero.
    let first = (c * bp.outChannels + tl.o0) * K;
    let end = (c + 1u) * bp.outChannels * K;
    var run: vec4<f32>;
    for (var m = 0u; m < MAXM; m++) {
      let i = first + m;
      if (m >= rows) {
        continue;
      } else if (WVEC == 1u) {
        if (m % 4u == 0u) { run = select(vec4<f32>(0.0), weight4[select(0u, i / 4u, i < end)], i < end); }
        w[m] = run[m % 4u];
      } else {
        w[m] = select(0.0, weight[select(0u, i, i < end)], i < end);
      }
    }
    fmaTile(acc, &w, &xs, rows);
  }
  return tl;
}

// Start of the big-tensor row that tap `tap` of small-tensor row qh writes in output channel o.
fn bigRow(tl: Tile, o: u32, tap: u32, qh: u32) -> u32 {
  return (((tl.n * bp.outChannels + o) * bp.big.x + tl.qd * KD + tap / (KH * KW)) * bp.big.y + qh * KH + (tap / KW) % KH) * bp.big.z;
}

@compute @workgroup_size(WG)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= bp.total) { return; }
  var acc: Acc;
  let tl = scatterTile(t, &acc);
  let K = taps();

  // Tile rows m .. m + KW − 1 with m % KW = 0 (channel o, taps td, th and every tw) fill 4·KW
  // adjacent elements of a big-tensor row per quad, staged to be stored as KW vec4s. Every loop
  // counter indexes acc directly, so Mesa unrolls them all and the indices fold to constants.
  var stage: array<vec4<f32>, MAXKW>;
  for (var r = 0u; r < MAXHT; r++) {
    let qh = tl.qh0 + r;
    for (var v = 0u; v < MAXXV; v++) {
      let q = tl.q0 + 4u * v;
      for (var m = 0u; m < MAXM; m++) {
        let tw = m % KW;
        let a = acc[m][r][v];
        for (var e = 0u; e < 4u; e++) {
          let i = e * KW + tw;
          stage[i / 4u][i % 4u] = a[e];
        }
        let o = tl.o0 + m / K;
        if (tw + 1u < KW || m >= CT * K || r >= HT || v >= XV || o >= bp.outChannels || qh >= bp.small.y || q >= bp.small.z) { continue; }
        let row = bigRow(tl, o, m % K, qh);
        for (var s = 0u; s < MAXKW; s++) {
          if (s < KW) { out4[(row + q * KW) / 4u + s] = stage[s]; }
        }
      }
    }
  }
}

// scatter for rows that are not 16-byte aligned: one element at a time, through the scalar view
// (a separate entry, since one dispatch may not bind a buffer writable twice).
@compute @workgroup_size(WG)
fn scatterElements(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= bp.total) { return; }
  var acc: Acc;
  let tl = scatterTile(t, &acc);
  let K = taps();

  for (var m = 0u; m < MAXM; m++) {
    let o = tl.o0 + m / K;
    let tw = m % KW;
    for (var r = 0u; r < MAXHT; r++) {
      let qh = tl.qh0 + r;
      let row = bigRow(tl, min(o, bp.outChannels - 1u), m % K, qh);
      for (var v = 0u; v < MAXXV; v++) {
        let a = acc[m][r][v];
        for (var e = 0u; e < 4u; e++) {
          let q = tl.q0 + 4u * v + e;
          if (m < CT * K && r < HT && v < XV && o < bp.outChannels && qh < bp.small.y && q < bp.small.z) { out[row + q * KW + tw] = a[e]; }
        }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn weightGrad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= gp.total) { return; }
  let tile = t % gp.tiles;
  let chunk = t / gp.tiles;
  let b0 = (tile % gp.bBlocks) * CT;
  let a0 = (tile / gp.bBlocks) * AT;
  let A = gp.aChannels;
  let B = gp.bChannels;
  let K = taps();
  // Tile row m: big-tensor channel b0 + m / K, tap m % K; one vec4 of partial sums per quad lane.
  let rows = CT * K;
  var acc: array<array<vec4<f32>, MAXM>, MAXA>;
  let quads = (gp.small.z + 3u) / 4u;
  let rowEnd = min(gp.rows, (chunk + 1u) * gp.chunkRows);
  for (var rw = chunk * gp.chunkRows; rw < rowEnd; rw++) {
    let qh = rw % gp.small.y;
    let qd = (rw / gp.small.y) % gp.small.x;
    let n = rw / (gp.small.y * gp.small.x);
    for (var wq = 0u; wq < quads; wq++) {
      let q0 = 4u * wq;
      var g: array<vec4<f32>, MAXA>;
      for (var a = 0u; a < MAXA; a++) {
        let inside = a0 + a < A;
        let row = (((n * A + select(0u, a0 + a, inside)) * gp.small.x + qd) * gp.small.y + qh) * gp.small.z;
        if (a < AT) { g[a] = quad(row, q0, select(0u, gp.small.z, inside)); }
      }
      var s: Span;
      for (var m = 0u; m < MAXM; m++) {
        if (m >= rows) { continue; }
        let tap = m % K;
        let tw = tap % KW;
        if (tw == 0u) {
          let b = b0 + m / K;
          let inside = b < B;
          let row = (((n * B + select(0u, b, inside)) * gp.big.x + qd * KD + tap / (KH * KW)) * gp.big.y + qh * KH + (tap / KW) % KH) * gp.big.z;
          s = span(row, q0 * KW, select(0u, gp.big.z, inside));
        }
        let x = deal(&s, tw);
        for (var a = 0u; a < MAXA; a++) {
          if (a < AT) { acc[a][m] = fma(g[a], x, acc[a][m]); }
        }
      }
    }
  }

  for (var a = 0u; a < MAXA; a++) {
    let base = ((chunk * A + a0 + a) * B + b0) * K;
    for (var m = 0u; m < MAXM; m++) {
      if (a < AT && m < rows && a0 + a < A && b0 + m / K < B) { partial[base + m] = dot(acc[a][m], vec4<f32>(1.0)); }
    }
  }
}
