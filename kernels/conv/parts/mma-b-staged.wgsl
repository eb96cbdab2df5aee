// B of conv/mma staged in workgroup memory: after the A tile, BN rows of ROW halfs.
const B_STAGED = true;
const B_SLOT_HALFS = 0u;

// Fragment of B columns n (nl within the tile), 16 k from k, of the stage at base.
fn fragmentB(base: u32, n: u32, nl: u32, k: u32) -> FragB {
  return loadB(base + (BM + nl) * ROW + k % BK);
}
