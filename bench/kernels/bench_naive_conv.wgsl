// Bench only (bench/ops.ts): the straightforward 3D convolution the issue measures the real kernels
// against — one output value per invocation, every tap read from memory, no tiling. Stride 1,
// cubic kernel, zero padding, batch 1, NCDHW. Loops stay loops (SwiftShader compiles it too).
struct Params {
  cin: u32,
  cout: u32,
  k: u32,
  pad: u32,
  // Output size = input size (stride 1, 'same' padding when k = 2·pad + 1).
  d: u32,
  h: u32,
  w: u32,
  n: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let hw = p.h * p.w;
  let vox = p.d * hw;
  let co = i / vox;
  let r = i % vox;
  let z = i32(r / hw);
  let y = i32((r % hw) / p.w);
  let xx = i32(r % p.w);
  let k = i32(p.k);
  let pad = i32(p.pad);
  var acc = bias[co];
  for (var ci = 0u; ci < p.cin; ci++) {
    let wBase = (co * p.cin + ci) * p.k * p.k * p.k;
    for (var kz = 0; kz < k; kz++) {
      let iz = z + kz - pad;
      if (iz < 0 || iz >= i32(p.d)) { continue; }
      for (var ky = 0; ky < k; ky++) {
        let iy = y + ky - pad;
        if (iy < 0 || iy >= i32(p.h)) { continue; }
        for (var kx = 0; kx < k; kx++) {
          let ix = xx + kx - pad;
          if (ix < 0 || ix >= i32(p.w)) { continue; }
          acc += x[ci * vox + u32(iz) * hw + u32(iy) * p.w + u32(ix)] * weight[wBase + u32((kz * k + ky) * k + kx)];
        }
      }
    }
  }
  out[i] = acc;
}
