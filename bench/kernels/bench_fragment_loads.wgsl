// Bench only (bench/mma.ts): how fast subgroup-matrix fragments load, from workgroup memory with
// rows STRIDE halfs apart (32: 64-byte rows; 40: 80-byte rows, the padding of kernels/conv/mma.wgsl)
// and straight from a storage buffer. Each of a workgroup's 4 subgroups loads 4 left (row-major) and
// 4 right (column-major) fragments an iteration from its own 64 rows and accumulates their 4
// products, so every load is used once: the loads, not the tensor cores, set the pace. The rows
// start at (13·iteration + 16·f) mod 48, so no load repeats within a short period (nothing for the
// compiler to hoist), and the sums are stored so nothing is dropped. Needs shader-f16 and chromium-experimental-subgroup-matrix.
enable f16;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium.subgroup_matrix_uniformity);

override STRIDE: u32 = 40u;
override ITERS: u32 = 1024u;

// 4 subgroups × 64 rows × STRIDE halfs (STRIDE ≤ 48).
var<workgroup> tile: array<f16, 12288>;

@group(0) @binding(0) var<storage, read> frags: array<f16>;
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;

@compute @workgroup_size(128)
fn fromWorkgroup(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  for (var i = tid; i < 256u * STRIDE; i += 128u) { tile[i] = frags[i]; }
  workgroupBarrier();
  let base = (tid / 32u) * 64u * STRIDE;
  var acc = subgroup_matrix_result<f32, 16, 16>();
  for (var it = 0u; it < ITERS; it++) {
    let k = (it % 2u) * 16u;
    for (var f = 0u; f < 4u; f++) {
      let a = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, row_major>(&tile, base + ((it * 13u + f * 16u) % 48u) * STRIDE + k, STRIDE);
      let b = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, col_major>(&tile, base + ((it * 13u + f * 16u + 8u) % 48u) * STRIDE + k, STRIDE);
      acc = subgroupMatrixMultiplyAccumulate(a, b, acc);
    }
  }
  subgroupMatrixStore<row_major>(&sums, (wg.x * 4u + tid / 32u) * 256u, acc, 16u);
}

@compute @workgroup_size(128)
fn fromStorage(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  // Each workgroup reads its own 256 rows (of 8 such blocks in the buffer: L2-resident, as a weight tile is).
  let base = ((wg.x % 8u) * 4u + tid / 32u) * 64u * STRIDE;
  var acc = subgroup_matrix_result<f32, 16, 16>();
  for (var it = 0u; it < ITERS; it++) {
    let k = (it % 2u) * 16u;
    for (var f = 0u; f < 4u; f++) {
      let a = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, row_major>(&frags, base + ((it * 13u + f * 16u) % 48u) * STRIDE + k, STRIDE);
      let b = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, col_major>(&frags, base + ((it * 13u + f * 16u + 8u) % 48u) * STRIDE + k, STRIDE);
      acc = subgroupMatrixMultiplyAccumulate(a, b, acc);
    }
  }
  subgroupMatrixStore<row_major>(&sums, (wg.x * 4u + tid / 32u) * 256u, acc, 16u);
}
