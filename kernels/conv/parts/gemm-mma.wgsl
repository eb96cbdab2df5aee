// The tensor-core inner product of the GEMM kernels (gemm-core.wgsl): operands staged as f16, then
// 16×16×16 subgroup-matrix products accumulated in f32. The op runs it only on adapters whose
// subgroups are exactly 32 invocations (src/device/precision.ts), so subgroup s of the workgroup is
// invocations 32s .. 32s + 31: it owns result matrices s, s + S, s + 2S, ... (S = WGS / 32
// subgroups), at most 8. finish() stores them to workgroup memory, where each invocation reads its
// TM × TN outputs.
enable f16;
enable chromium_experimental_subgroup_matrix;
// The matrix offsets derive from the subgroup's index (invocation index / 32), uniform within each
// subgroup on such adapters but not provably so to the workgroup-level analysis.
diagnostic(off, chromium.subgroup_matrix_uniformity);

// Row-major [k][m], [k][n] and [m][n] tiles: BM·BK, BN·BK ≤ 2048 and BM·BN ≤ 4096 (24 KiB in all).
var<workgroup> As: array<f16, 2048>;
var<workgroup> Bs: array<f16, 2048>;
var<workgroup> Cs: array<f32, 4096>;

fn storeA(k: u32, m: u32, v: f32) {
  As[k * WM * TM + m] = f16(v);
}

fn storeB(k: u32, n: u32, v: f32) {
  Bs[k * WN * TN + n] = f16(v);
}

alias Acc = array<subgroup_matrix_result<f32, 16, 16>, 8>;

// Result matrix b covers rows 16·(b mod BM/16) and columns 16·(b div BM/16) of the tile; this
// subgroup's r-th one is b = tid / 32 + r · WGS / 32.
fn block(tid: u32, r: u32) -> vec2<u32> {
  let bm = WM * TM / 16u;
  let b = tid / 32u + r * (WGS / 32u);
  return vec2<u32>(b % bm, b / bm) * 16u;
}

fn blocks() -> u32 {
  return (WM * TM / 16u) * (WN * TN / 16u) / (WGS / 32u);
}

fn accumulate(acc: ptr<function, Acc>, tid: u32) {
  for (var kk = 0u; kk < BK; kk += 16u) {
    for (var r = 0u; r < blocks(); r++) {
      let at = block(tid, r);
      // A as stored is column-major M × K; B row-major K × N.
      let a = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, col_major>(&As, kk * WM * TM + at.x, WM * TM);
      let w = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, row_major>(&Bs, kk * WN * TN + at.y, WN * TN);
      (*acc)[r] = subgroupMatrixMultiplyAccumulate(a, w, (*acc)[r]);
    }
  }
}

fn finish(acc: ptr<function, Acc>, tid: u32) {
  for (var r = 0u; r < blocks(); r++) {
    let at = block(tid, r);
    subgroupMatrixStore<row_major>(&Cs, at.x * WN * TN + at.y, (*acc)[r], WN * TN);
  }
  workgroupBarrier();
}

// Output (tx·TM + i, ty·TN + j) of the tile.
fn value(acc: ptr<function, Acc>, tid: u32, i: u32, j: u32) -> f32 {
  return Cs[((tid % WM) * TM + i) * WN * TN + (tid / WM) * TN + j];
}
