// The f32 inner product of the GEMM kernels (gemm-core.wgsl): every invocation accumulates its
// TM × TN outputs in registers from the staged tiles, reading vec4s.

// Workgroup tiles, row-major [k][m] and [k][n] with rows 4 floats longer than the tile: vec4
// aligned, and stores along k (weightGrad) spread over banks. Fixed sizes hold every variant
// (BK·(BM + 4) ≤ 2112, BK·(BN + 4) ≤ 1984: 16 KiB, what every adapter offers).
var<workgroup> As: array<vec4<f32>, 528>;
var<workgroup> Bs: array<vec4<f32>, 496>;

fn aRow4() -> u32 { return (WM * TM + 4u) / 4u; }
fn bRow4() -> u32 { return (WN * TN + 4u) / 4u; }

fn storeA(k: u32, m: u32, v: f32) {
  let i = k * (WM * TM + 4u) + m;
  As[i / 4u][i % 4u] = v;
}

fn storeB(k: u32, n: u32, v: f32) {
  let i = k * (WN * TN + 4u) + n;
  Bs[i / 4u][i % 4u] = v;
}

alias Acc = array<array<vec4<f32>, 2>, 8>;

// acc[i][j] += A[k, tx·TM + i] · B[k, ty·TN + 4j ..] over the BK staged k.
fn accumulate(acc: ptr<function, Acc>, tid: u32) {
  let tx = tid % WM;
  let ty = tid / WM;
  for (var k = 0u; k < BK; k++) {
    var a: array<vec4<f32>, 2>;
    var b: array<vec4<f32>, 2>;
    for (var q = 0u; q < TM / 4u; q++) { a[q] = As[k * aRow4() + tx * (TM / 4u) + q]; }
    for (var q = 0u; q < TN / 4u; q++) { b[q] = Bs[k * bRow4() + ty * (TN / 4u) + q]; }
    for (var i = 0u; i < TM; i++) {
      let ai = vec4<f32>(a[i / 4u][i % 4u]);
      for (var j = 0u; j < TN / 4u; j++) { (*acc)[i][j] = fma(ai, b[j], (*acc)[i][j]); }
    }
  }
}

// The registers already hold the results.
fn finish(acc: ptr<function, Acc>, tid: u32) {}

// Output (tx·TM + i, ty·TN + j) of the tile.
fn value(acc: ptr<function, Acc>, tid: u32, i: u32, j: u32) -> f32 {
  return (*acc)[i][j / 4u][j % 4u];
}
