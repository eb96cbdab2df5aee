// The tensor-core intrinsics of conv/mma (see mma.wgsl for the contract): WGSL subgroup matrices,
// f16 operands and f32 sums. Needs shader-f16 and chromium-experimental-subgroup-matrix with
// f16→f32 16×16×16 matrices in subgroups of exactly 32 invocations (src/device/precision.ts).
enable f16;
enable chromium_experimental_subgroup_matrix;
// Matrix offsets derive from the subgroup's index (invocation index / 32), uniform within each
// subgroup on such adapters but not provably so to the workgroup-level analysis; edge fragments
// branch per subgroup.
diagnostic(off, chromium.subgroup_matrix_uniformity);

alias FragA = subgroup_matrix_left<f16, 16, 16>;
alias FragB = subgroup_matrix_right<f16, 16, 16>;
alias Acc = subgroup_matrix_result<f32, 16, 16>;

var<workgroup> tile: array<f16, TILE_HALFS>;

fn stage8(h: u32, v: vec4<u32>) {
  let a = bitcast<vec2<f16>>(v.x);
  let b = bitcast<vec2<f16>>(v.y);
  let c = bitcast<vec2<f16>>(v.z);
  let d = bitcast<vec2<f16>>(v.w);
  tile[h] = a.x;
  tile[h + 1u] = a.y;
  tile[h + 2u] = b.x;
  tile[h + 3u] = b.y;
  tile[h + 4u] = c.x;
  tile[h + 5u] = c.y;
  tile[h + 6u] = d.x;
  tile[h + 7u] = d.y;
}

fn loadA(h: u32) -> FragA {
  return subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, row_major>(&tile, h, ROW);
}

fn loadACols(h: u32, stride: u32) -> FragA {
  return subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, col_major>(&tile, h, stride);
}

fn loadB(h: u32) -> FragB {
  return subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, col_major>(&tile, h, ROW);
}

fn mma(a: FragA, b: FragB, c: Acc) -> Acc {
  return subgroupMatrixMultiplyAccumulate(a, b, c);
}

fn zeroAcc() -> Acc {
  return subgroup_matrix_result<f32, 16, 16>();
}

fn loadAccScratch(offset: u32, stride: u32) -> Acc {
  return subgroupMatrixLoad<subgroup_matrix_result<f32, 16, 16>, row_major>(&scratch, offset, stride);
}

fn storeOut(c: Acc, offset: u32, stride: u32) {
  subgroupMatrixStore<col_major>(&out, offset, c, stride);
}

fn storeScratch(c: Acc, offset: u32) {
  subgroupMatrixStore<row_major>(&scratch, offset, c, 16u);
}
