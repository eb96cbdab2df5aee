// Fragments of B straight from storage on tensor cores: B bound again as f16 (subgroupMatrixLoad
// needs the matrix's element type).
@group(0) @binding(5) var<storage, read> wt16: array<f16>;
const B_SLOT_HALFS = 0u;

fn loadBStorage(h: u32, stride: u32) -> FragB {
  return subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, col_major>(&wt16, h, stride);
}
