// Cross-entropy over the channels (multinomial logistic loss) with class weights, PyTorch's
// cross_entropy: per voxel v with class t, loss_v = weight[t]·(logsumexp(x_v) − x_v[t]). logits are
// [N, C, voxels], labels [N, voxels]. The gradient is weight[t]·(softmax − onehot) times the
// upstream coefficient.
struct Params {
  n: u32,
  channels: u32,
  voxels: u32,
  // backward: 1 when coefs holds one value per voxel (reduction 'none'), 0 for one value.
  perVoxel: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;
@group(0) @binding(4) var<storage, read_write> weights: array<f32>;
// logsumexp per voxel as its two parts, max then log Σ exp(x − max), at [2v] and [2v + 1]: written by
// forward, reused by backward for the softmax. Not summed into one value: max + log Σ rounds to the
// max's ulp (5e-4 at 1e4), which would swamp a loss or a softmax − onehot near 0.
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read> lseSaved: array<f32>;
@group(0) @binding(7) var<storage, read> coefs: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;
@group(0) @binding(9) var<uniform> p: Params;

// A label that is not an integer in [0, channels) is background (class 0): never an out-of-bounds
// index. checkLabels (src/ops/labels.ts) reports such labels.
fn labelOf(v: f32) -> u32 {
  if (v >= 0.0 && v < f32(p.channels) && v == floor(v)) { return u32(v); }
  return 0u;
}

// One invocation per voxel (p.n = N · voxels), walking its channels.
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let v = gid.x + gid.y * nwg.x * WG;
  if (v >= p.n) { return; }
  let base = (v / p.voxels) * p.channels * p.voxels + v % p.voxels;
  let end = base + p.channels * p.voxels;
  var m = logits[base];
  for (var i = base + p.voxels; i < end; i += p.voxels) { m = max(m, logits[i]); }
  var total = 0.0;
  for (var i = base; i < end; i += p.voxels) { total += exp(logits[i] - m); }
  let logTotal = log(total);
  let t = labelOf(labels[v]);
  let w = weight[t];
  lse[2u * v] = m;
  lse[2u * v + 1u] = logTotal;
  weights[v] = w;
  losses[v] = w * ((m - logits[base + t * p.voxels]) + logTotal);
}

// One invocation per logit (p.n = N · C · voxels).
@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let c = (i / p.voxels) % p.channels;
  let v = (i / (p.voxels * p.channels)) * p.voxels + i % p.voxels;
  let t = labelOf(labels[v]);
  let onehot = select(0.0, 1.0, c == t);
  let coef = coefs[select(0u, v, p.perVoxel == 1u)];
  out[i] = coef * weight[t] * (exp((logits[i] - lseSaved[2u * v]) - lseSaved[2u * v + 1u]) - onehot);
}
