// Normalisation over statistics rows (src/ops/norm.ts), shared by norm/scalar.wgsl and
// norm/vec4.wgsl, which define V (the element type of x, g and out: f32, or vec4<f32> when planes
// are whole vec4s) and total(v) (the sum of v's lanes).
//
// x is [N, C, S] (S: the spatial size); a plane is one (sample n, channel c), S contiguous
// elements, `inner` Vs. Its statistics row is
//   group / instance norm: n · G + c / (C / G), rowsPerSample = G;
//   batch norm: c, rowsPerSample = 0 and channelsPerRow = 1.
// Sums are taken per plane (planeSums, gradientSums: split reductions following
// src/ops/row-sums.ts, rows = planes) and the op adds planes into statistics rows, so no kernel
// divides per element. The element-wise entries walk a plane per workgroup row (planeGrid), so the
// channel and row come from the workgroup id, and loop over the plane in steps of the grid.
struct Params {
  channels: u32,
  inner: u32,
  planes: u32,
  rowsPerSample: u32,
  channelsPerRow: u32,
  // The current split reduction's rows, items per row and chunks (src/ops/row-sums.ts); the
  // backward reads the second statistic of statistics row r at rows + r.
  rows: u32,
  rowLength: u32,
  chunks: u32,
  eps: f32,
  // 1 / the number of elements per statistics row.
  invCount: f32,
  momentum: f32,
  // count / (count − 1): the unbiased variance for the running statistics.
  unbiased: f32,
}

// planeSums: Σ x (false) or Σ (x − mean)² (true) per plane.
override CENTERED: bool = false;
// backward: statistics of the batch (their gradient included) or fixed running statistics.
override BATCH_STATS: bool = true;
// normalize, backward: whether a per-channel weight (else 1) and bias (else 0) are bound.
override WEIGHT: bool = true;
override BIAS: bool = true;
override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<V>;
@group(0) @binding(1) var<storage, read> g: array<V>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> variance: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
// [2, rows]: Σ g·w and Σ g·w·x̂ over each statistics row.
@group(0) @binding(6) var<storage, read> rowGrads: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<V>;
@group(0) @binding(8) var<storage, read_write> partials: array<f32>;
@group(0) @binding(9) var<storage, read_write> runningMean: array<f32>;
@group(0) @binding(10) var<storage, read_write> runningVar: array<f32>;
@group(0) @binding(11) var<uniform> p: Params;

fn statRow(plane: u32) -> u32 {
  return (plane / p.channels) * p.rowsPerSample + (plane % p.channels) / p.channelsPerRow;
}

fn invStd(r: u32) -> f32 {
  return 1.0 / sqrt(variance[r] + p.eps);
}

// Split-reduction invocation t: chunk t % chunks of plane t / chunks (see src/ops/row-sums.ts).
fn splitIndex(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn planeSums(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = splitIndex(gid, nwg);
  if (t >= p.rows * p.chunks) { return; }
  let plane = t / p.chunks;
  // The plain sum binds x as mean too (read-only aliasing) and ignores it.
  let m = select(0.0, mean[statRow(plane)], CENTERED);
  var acc = 0.0;
  for (var j = t % p.chunks; j < p.rowLength; j += p.chunks) {
    let d = x[plane * p.inner + j] - m;
    acc += total(select(d, d * d, CENTERED));
  }
  partials[t] = acc;
}

// Per plane: Σ g and Σ g·x̂ (the bias and weight gradients before the sum over the batch).
@compute @workgroup_size(WG)
fn gradientSums(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = splitIndex(gid, nwg);
  if (t >= p.rows * p.chunks) { return; }
  let plane = t / p.chunks;
  let r = statRow(plane);
  let m = mean[r];
  var sumG = 0.0;
  var sumGD = 0.0;
  for (var j = t % p.chunks; j < p.rowLength; j += p.chunks) {
    let i = plane * p.inner + j;
    sumG += total(g[i]);
    sumGD += total(g[i] * (x[i] - m));
  }
  partials[t] = sumG;
  partials[p.rows * p.chunks + t] = sumGD * invStd(r);
}

fn planeOf(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y + wid.z * nwg.y;
}

// out = (x − mean) / √(var + eps) · weight + bias.
@compute @workgroup_size(WG)
fn normalize(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let plane = planeOf(wid, nwg);
  if (plane >= p.planes) { return; }
  let r = statRow(plane);
  let c = plane % p.channels;
  let m = mean[r];
  var scale = invStd(r);
  if (WEIGHT) { scale *= weight[c]; }
  var shift = 0.0;
  if (BIAS) { shift = bias[c]; }
  for (var j = wid.x * WG + lid; j < p.inner; j += nwg.x * WG) {
    let i = plane * p.inner + j;
    out[i] = (x[i] - m) * scale + shift;
  }
}

// Gradient for x. With batch statistics (x̂ = (x − μ)·s over a row of M elements, ĝ = g·w):
// (ĝ − Σĝ/M − x̂·Σĝx̂/M)·s; with running statistics, ĝ·s.
@compute @workgroup_size(WG)
fn backward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let plane = planeOf(wid, nwg);
  if (plane >= p.planes) { return; }
  let r = statRow(plane);
  var w = 1.0;
  if (WEIGHT) { w = weight[plane % p.channels]; }
  let m = mean[r];
  let s = invStd(r);
  var meanG = 0.0;
  var meanGX = 0.0;
  if (BATCH_STATS) {
    meanG = rowGrads[r] * p.invCount;
    meanGX = rowGrads[p.rows + r] * p.invCount;
  }
  for (var j = wid.x * WG + lid; j < p.inner; j += nwg.x * WG) {
    let i = plane * p.inner + j;
    out[i] = (g[i] * w - meanG - (x[i] - m) * (s * meanGX)) * s;
  }
}

// Running statistics, in place: (1 − momentum)·running + momentum·batch, the variance unbiased.
@compute @workgroup_size(WG)
fn updateRunning(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.channels) { return; }
  runningMean[c] = (1.0 - p.momentum) * runningMean[c] + p.momentum * mean[c];
  runningVar[c] = (1.0 - p.momentum) * runningVar[c] + p.momentum * variance[c] * p.unbiased;
}
