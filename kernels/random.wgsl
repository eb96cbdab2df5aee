// Seeded random numbers from a counter-based hash (PCG), so element i depends only on (seed, i):
// reproducible, and independent of how the work is split into workgroups.
struct Params {
  n: u32,
  seed: u32,
  a: f32,
  b: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Uniform in (0, 1], never 0 so log() below stays finite.
fn unit(h: u32) -> f32 {
  return (f32(h >> 8u) + 1.0) / 16777216.0;
}

// Normal with mean a and standard deviation b (Box-Muller on two hashed uniforms).
@compute @workgroup_size(WG)
fn randn(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let h1 = pcg(pcg(i * 2u) ^ p.seed);
  let h2 = pcg(pcg(i * 2u + 1u) ^ (p.seed * 0x9E3779B9u));
  let r = sqrt(-2.0 * log(unit(h1)));
  out[i] = p.a + p.b * r * cos(6.283185307179586 * unit(h2));
}

// Uniform in [a, b).
@compute @workgroup_size(WG)
fn rand(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let h = pcg(pcg(i) ^ p.seed);
  out[i] = p.a + (p.b - p.a) * (f32(h >> 8u) / 16777216.0);
}
