// Fragments of B straight from storage, emulated: the subgroup copies the 16 × 16 block (column-
// major, 16 halfs a column) into its slot j = (n / 16) mod FN after the tile, which the multiply
// then reads; barriers on both sides keep the slot's previous fragment until every multiply used it.
@group(0) @binding(5) var<storage, read> wt16: array<u32>;
override B_SLOT_HALFS: u32 = WGS / 32u * ${FN}u * 256u;

fn loadBStorage(h: u32, stride: u32) -> FragB {
  let slot = TILE_HALFS + (subgroup * ${FN}u + (h / stride / 16u) % ${FN}u) * 256u;
  workgroupBarrier();
  for (var q = 0u; q < 4u; q++) {
    // Halfs 2w, 2w + 1 of the block: column n, rows k and k + 1 (one u32 of wt16: h and stride are even).
    let w = lane * 4u + q;
    let n = w / 8u;
    let k = (w % 8u) * 2u;
    tile[(slot + n * 16u + k) / 2u] = wt16[(h + n * stride + k) / 2u];
  }
  workgroupBarrier();
  return vec3<u32>(slot, 1u, 16u);
}
