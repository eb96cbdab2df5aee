// B of conv/mma loaded straight from storage: fragments read column-major from the [N][K] f16
// matrix (rows K apart, every row up to the last tile's allocated), no staging of B.
// @include mma-${MODE}-storage.wgsl
const B_STAGED = false;

fn fragmentB(base: u32, n: u32, nl: u32, k: u32) -> FragB {
  return loadBStorage(n * mp.K + k, mp.K);
}
