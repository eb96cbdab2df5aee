// The tensor-core inner product of the GEMM kernels (gemm-core.wgsl): operands staged as f16, then
// 16×16×16 subgroup-matrix products accumulated in f32. A workgroup is one subgroup (WM·WN = 32
// invocations, checked by the op against the adapter's subgroup size), so every matrix load and
// product takes workgroup-uniform arguments. It holds (BM/16)·(BN/16) ≤ 8 result matrices;
// finish() stores them to workgroup memory, where each invocation reads its TM × TN outputs.
enable f16;
enable chromium_experimental_subgroup_matrix;

// Row-major [k][m], [k][n] and [m][n] tiles: BM·BK, BN·BK, BM·BN ≤ 2048 (16 KiB in all).
var<workgroup> As: array<f16, 2048>;
var<workgroup> Bs: array<f16, 2048>;
var<workgroup> Cs: array<f32, 2048>;

fn storeA(k: u32, m: u32, v: f32) {
  As[k * WM * TM + m] = f16(v);
}

fn storeB(k: u32, n: u32, v: f32) {
  Bs[k * WN * TN + n] = f16(v);
}

alias Acc = array<subgroup_matrix_result<f32, 16, 16>, 8>;

// Result matrix b covers rows 16·(b mod BM/16) and columns 16·(b div BM/16) of the tile.
fn accumulate(acc: ptr<function, Acc>, tid: u32) {
  let bm = WM * TM / 16u;
  for (var kk = 0u; kk < BK; kk += 16u) {
    for (var b = 0u; b < bm * (WN * TN / 16u); b++) {
      // A as stored is column-major M × K; B row-major K × N.
      let a = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, col_major>(&As, kk * WM * TM + (b % bm) * 16u, WM * TM);
      let w = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, row_major>(&Bs, kk * WN * TN + (b / bm) * 16u, WN * TN);
      (*acc)[b] = subgroupMatrixMultiplyAccumulate(a, w, (*acc)[b]);
    }
  }
}

fn finish(acc: ptr<function, Acc>, tid: u32) {
  let bm = WM * TM / 16u;
  for (var b = 0u; b < bm * (WN * TN / 16u); b++) {
    subgroupMatrixStore<row_major>(&Cs, (b % bm) * 16u * WN * TN + (b / bm) * 16u, (*acc)[b], WN * TN);
  }
  workgroupBarrier();
}

// Output (tx·TM + i, ty·TN + j) of the tile.
fn value(acc: ptr<function, Acc>, tid: u32, i: u32, j: u32) -> f32 {
  return Cs[((tid % WM) * TM + i) * WN * TN + (tid / WM) * TN + j];
}
