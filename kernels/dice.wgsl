// The V-Net Dice loss (Milletari et al., section 3). Per sample n and counted class c, over voxels:
//   I = Σ p·g,  U = Σ p² + Σ g² + eps,  D = 2·I / U,  loss = 1 − mean D
// with its analytic gradient ∂D/∂p_j = 2·(g_j·U − 2·p_j·I) / U². probs is [N, C, voxels]; the
// target is class labels [N, voxels] (g = 1 where the label is c) or one-hot [N, C, voxels]
// (ONE_HOT = 1). Counted classes are listed in `classes` (at most 256).

// sums: a split reduction (src/ops/row-sums.ts); row = sample × counted class, items = voxels.
struct SumParams {
  rows: u32,
  rowLength: u32,
  chunks: u32,
  channels: u32,
  classCount: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  classes: array<vec4<u32>, 64>,
}

// loss: D per (sample, class) from the sums, then per-sample losses or their batch mean.
struct LossParams {
  batch: u32,
  classCount: u32,
  eps: f32,
  mean: u32,
}

// backward: one invocation per element of probs.
struct GradParams {
  n: u32,
  channels: u32,
  voxels: u32,
  classCount: u32,
  eps: f32,
  // 1: the upstream gradient has one value per sample (reduction 'none'), 0: one value.
  perSample: u32,
  // ∂loss/∂D per (sample, class) before the upstream gradient: −1/classCount (÷ batch for 'mean').
  scale: f32,
  batch: u32,
  classes: array<vec4<u32>, 64>,
}

override ONE_HOT: u32 = 0u;
override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<uniform> sp: SumParams;
@group(0) @binding(4) var<storage, read> sums: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> lp: LossParams;
@group(0) @binding(7) var<storage, read> g: array<f32>;
@group(0) @binding(8) var<uniform> gp: GradParams;
// ∂loss/∂p per (sample, counted class) is A·g − B·p (gradCoefs): (A, B) at coefs[2·row], [2·row + 1].
@group(0) @binding(9) var<storage, read_write> coefsOut: array<f32>;
@group(0) @binding(10) var<storage, read> coefs: array<vec2<f32>>;

// A label that is not an integer in [0, channels) is background (class 0): never an out-of-bounds
// index. checkLabels (src/ops/labels.ts) reports such labels.
fn labelOf(v: f32, channels: u32) -> u32 {
  if (v >= 0.0 && v < f32(channels) && v == floor(v)) { return u32(v); }
  return 0u;
}

// g for sample n, class c, voxel s.
fn targetAt(n: u32, c: u32, s: u32, channels: u32, voxels: u32) -> f32 {
  if (ONE_HOT == 1u) { return targets[(n * channels + c) * voxels + s]; }
  return select(0.0, 1.0, labelOf(targets[n * voxels + s], channels) == c);
}

@compute @workgroup_size(WG)
fn partialSums(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= sp.rows * sp.chunks) { return; }
  let row = t / sp.chunks;
  let n = row / sp.classCount;
  let k = row % sp.classCount;
  let c = sp.classes[k / 4u][k % 4u];
  let base = (n * sp.channels + c) * sp.rowLength;
  var pg = 0.0;
  var pp = 0.0;
  var gg = 0.0;
  for (var s = t % sp.chunks; s < sp.rowLength; s += sp.chunks) {
    let pv = probs[base + s];
    let gv = targetAt(n, c, s, sp.channels, sp.rowLength);
    pg += pv * gv;
    pp += pv * pv;
    gg += gv * gv;
  }
  let stride = sp.rows * sp.chunks;
  partials[t] = pg;
  partials[stride + t] = pp;
  partials[2u * stride + t] = gg;
}

// One invocation: N × classCount values at most a few hundred.
@compute @workgroup_size(1)
fn loss() {
  let rows = lp.batch * lp.classCount;
  var total = 0.0;
  for (var n = 0u; n < lp.batch; n++) {
    var dice = 0.0;
    for (var k = 0u; k < lp.classCount; k++) {
      let r = n * lp.classCount + k;
      dice += 2.0 * sums[r] / (sums[rows + r] + sums[2u * rows + r] + lp.eps);
    }
    let sampleLoss = 1.0 - dice / f32(lp.classCount);
    if (lp.mean == 0u) { out[n] = sampleLoss; }
    total += sampleLoss;
  }
  if (lp.mean == 1u) { out[0] = total / f32(lp.batch); }
}

// The backward's per-(sample, class) constants, once instead of at every voxel: with
// U = Σ p² + Σ g² + eps and I = Σ p·g, ∂loss/∂p_j = s·(2·(g_j·U − 2·p_j·I) / U²) = A·g_j − B·p_j,
// A = 2·s / U, B = 4·s·I / U², s = scale · upstream gradient. One invocation: a few hundred rows.
@compute @workgroup_size(1)
fn gradCoefs() {
  let rows = gp.batch * gp.classCount;
  for (var r = 0u; r < rows; r++) {
    let s = gp.scale * g[select(0u, r / gp.classCount, gp.perSample == 1u)];
    let denom = sums[rows + r] + sums[2u * rows + r] + gp.eps;
    coefsOut[2u * r] = 2.0 * s / denom;
    coefsOut[2u * r + 1u] = 4.0 * s * sums[r] / (denom * denom);
  }
}

fn probsGradient(n: u32, k: u32, c: u32, s: u32, pv: f32) -> f32 {
  let ab = coefs[n * gp.classCount + k];
  return ab.x * targetAt(n, c, s, gp.channels, gp.voxels) - ab.y * pv;
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= gp.n) { return; }
  let s = i % gp.voxels;
  let c = (i / gp.voxels) % gp.channels;
  let n = i / (gp.voxels * gp.channels);
  var grad = 0.0;
  for (var k = 0u; k < gp.classCount; k++) {
    if (gp.classes[k / 4u][k % 4u] == c) { grad = probsGradient(n, k, c, s, probs[i]); }
  }
  out[i] = grad;
}

// With softmax (diceLoss(logits, target, { softmax: true })): the gradient for the logits, from the
// probabilities p that the forward kept. One invocation per voxel of one sample (the sample is the
// workgroup row, ctx.planeGrid, src/device/context.ts), walking the channels: the Dice gradient a_c = ∂loss/∂p_c
// (0 for classes not counted) through the softmax Jacobian, ∂loss/∂z_c = p_c·(a_c − Σ_c' p_c'·a_c'),
// without writing the probability gradient.
@compute @workgroup_size(WG)
fn backwardLogits(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = wid.y + wid.z * nwg.y;
  let s = wid.x * WG + lid;
  if (n >= gp.batch || s >= gp.voxels) { return; }
  let base = n * gp.channels * gp.voxels + s;
  var total = 0.0;
  for (var k = 0u; k < gp.classCount; k++) {
    let c = gp.classes[k / 4u][k % 4u];
    let pv = probs[base + c * gp.voxels];
    total += pv * probsGradient(n, k, c, s, pv);
  }
  for (var c = 0u; c < gp.channels; c++) {
    let i = base + c * gp.voxels;
    let pv = probs[i];
    var a = 0.0;
    for (var k = 0u; k < gp.classCount; k++) {
      if (gp.classes[k / 4u][k % 4u] == c) { a = probsGradient(n, k, c, s, pv); }
    }
    out[i] = pv * (a - total);
  }
}

// backwardLogits for 4 neighbouring voxels at once in vec4s, when voxels is a multiple of 4.
@group(0) @binding(11) var<storage, read> probs4: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read> targets4: array<vec4<f32>>;
@group(0) @binding(13) var<storage, read_write> out4: array<vec4<f32>>;

// g for sample n, class c at vec4 j of the voxels.
fn targetAt4(n: u32, c: u32, j: u32, voxels4: u32) -> vec4<f32> {
  if (ONE_HOT == 1u) { return targets4[(n * gp.channels + c) * voxels4 + j]; }
  let v = targets4[n * voxels4 + j];
  let label = vec4<u32>(labelOf(v.x, gp.channels), labelOf(v.y, gp.channels), labelOf(v.z, gp.channels), labelOf(v.w, gp.channels));
  return select(vec4<f32>(0.0), vec4<f32>(1.0), label == vec4<u32>(c));
}

fn probsGradient4(n: u32, k: u32, c: u32, j: u32, voxels4: u32, pv: vec4<f32>) -> vec4<f32> {
  let ab = coefs[n * gp.classCount + k];
  return ab.x * targetAt4(n, c, j, voxels4) - ab.y * pv;
}

@compute @workgroup_size(WG)
fn backwardLogits4(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = wid.y + wid.z * nwg.y;
  let j = wid.x * WG + lid;
  let voxels4 = gp.voxels / 4u;
  if (n >= gp.batch || j >= voxels4) { return; }
  let base = n * gp.channels * voxels4 + j;
  var total = vec4<f32>(0.0);
  for (var k = 0u; k < gp.classCount; k++) {
    let c = gp.classes[k / 4u][k % 4u];
    let pv = probs4[base + c * voxels4];
    total += pv * probsGradient4(n, k, c, j, voxels4, pv);
  }
  for (var c = 0u; c < gp.channels; c++) {
    let i = base + c * voxels4;
    let pv = probs4[i];
    var a = vec4<f32>(0.0);
    for (var k = 0u; k < gp.classCount; k++) {
      if (gp.classes[k / 4u][k % 4u] == c) { a = probsGradient4(n, k, c, j, voxels4, pv); }
    }
    out4[i] = pv * (a - total);
  }
}
