// The paper's augmentation on the GPU, forward only (src/data/augment-gpu.ts): the dense B-spline
// displacement field, the warp of image (trilinear) and label (nearest), and histogram matching.
// Each kernel follows its CPU reference in src/data/augment.ts and interpolate.ts step by step, in
// float32. The histogram uses integer atomics only (counts and the min/max as order-preserving
// keys), so every result is bit-identical run to run.
struct FieldParams {
  nx: u32,
  ny: u32,
  nz: u32,
  m: u32,
}

struct WarpParams {
  nx: u32,
  ny: u32,
  nz: u32,
  outOffset: u32,
  outside: f32,
  // augment.ts mirror()'s axes: bit 0 x, bit 1 y, bit 2 z.
  mirror: u32,
}

struct HistParams {
  n: u32,
  bins: u32,
  outOffset: u32,
  nRef: u32,
  stride: u32,
}

override WG: u32 = 256u;

// --- B-spline field -----------------------------------------------------------------------------
// Separable, as augment.ts evaluateTensorSpline: contract the control grid along x, then y, then z
// (4 terms each), instead of 64 control points per voxel.

@group(0) @binding(0) var<storage, read> grid: array<f32>;
@group(0) @binding(1) var<storage, read_write> alongX: array<f32>;
@group(0) @binding(2) var<storage, read> alongXIn: array<f32>;
@group(0) @binding(3) var<storage, read_write> alongXY: array<f32>;
@group(0) @binding(4) var<storage, read> alongXYIn: array<f32>;
@group(0) @binding(5) var<storage, read_write> field: array<f32>;
@group(0) @binding(6) var<uniform> fp: FieldParams;

// The span and the four cubic B-spline weights of voxel v of n along one axis, with the m − 3 spans
// covering the axis exactly (augment.ts basisWeights).
fn basis(v: u32, n: u32, m: u32, span: ptr<function, u32>) -> vec4<f32> {
  let spans = m - 3u;
  var t = 0.0;
  if (n > 1u) { t = f32(v * spans) / f32(n - 1u); }
  let s = min(u32(floor(t)), spans - 1u);
  let u = t - f32(s);
  *span = s;
  return vec4<f32>(
    (1.0 - u) * (1.0 - u) * (1.0 - u) / 6.0,
    (3.0 * u * u * u - 6.0 * u * u + 4.0) / 6.0,
    (-3.0 * u * u * u + 3.0 * u * u + 3.0 * u + 1.0) / 6.0,
    u * u * u / 6.0,
  );
}

// alongX[axis][c][b][x] = Σ_a wx[x, a] grid[axis][c][b][a]; grid holds the m³ x displacements,
// then the y, then the z ones (x fastest).
@compute @workgroup_size(WG)
fn fieldAlongX(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let m = fp.m;
  if (i >= 3u * m * m * fp.nx) { return; }
  let x = i % fp.nx;
  let row = i / fp.nx; // axis · m² + c · m + b
  var s: u32;
  let w = basis(x, fp.nx, m, &s);
  let g = row * m + s;
  alongX[i] = w.x * grid[g] + w.y * grid[g + 1u] + w.z * grid[g + 2u] + w.w * grid[g + 3u];
}

// alongXY[axis][c][y][x] = Σ_b wy[y, b] alongX[axis][c][b][x].
@compute @workgroup_size(WG)
fn fieldAlongY(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let m = fp.m;
  if (i >= 3u * m * fp.ny * fp.nx) { return; }
  let x = i % fp.nx;
  let y = (i / fp.nx) % fp.ny;
  let slab = i / (fp.nx * fp.ny); // axis · m + c
  var s: u32;
  let w = basis(y, fp.ny, m, &s);
  let g = (slab * m + s) * fp.nx + x;
  alongXY[i] = w.x * alongXIn[g] + w.y * alongXIn[g + fp.nx] + w.z * alongXIn[g + 2u * fp.nx] + w.w * alongXIn[g + 3u * fp.nx];
}

// field[axis][z][y][x] = Σ_c wz[z, c] alongXY[axis][c][y][x], the three axes per invocation.
@compute @workgroup_size(WG)
fn fieldAlongZ(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = gid.x + gid.y * nwg.x * WG;
  let plane = fp.nx * fp.ny;
  let total = plane * fp.nz;
  if (n >= total) { return; }
  let m = fp.m;
  var s: u32;
  let w = basis(n / plane, fp.nz, m, &s);
  let p = n % plane;
  for (var axis = 0u; axis < 3u; axis++) {
    let g = (axis * m + s) * plane + p;
    field[axis * total + n] = w.x * alongXYIn[g] + w.y * alongXYIn[g + plane] + w.z * alongXYIn[g + 2u * plane] + w.w * alongXYIn[g + 3u * plane];
  }
}

// --- Warp ---------------------------------------------------------------------------------------

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read> label: array<f32>;
@group(0) @binding(2) var<storage, read> displacement: array<f32>;
@group(0) @binding(3) var<storage, read_write> outImage: array<f32>;
@group(0) @binding(4) var<storage, read_write> outLabel: array<f32>;
@group(0) @binding(5) var<uniform> wp: WarpParams;

// interpolate.ts: within half a voxel (plus slack) of the outermost voxel centres is inside.
const EDGE = 0.500001;

fn isInside(q: vec3<f32>, last: vec3<f32>) -> bool {
  return all(q >= vec3<f32>(-EDGE)) && all(q <= last + vec3<f32>(EDGE));
}

// Trilinear as sampleLinear: exact at integer positions, so a zero field copies the image.
fn sampleLinear(q: vec3<f32>, last: vec3<f32>) -> f32 {
  let c = clamp(q, vec3<f32>(0.0), last);
  let f0 = floor(c);
  let f = c - f0;
  let x0 = u32(f0.x);
  let y0 = u32(f0.y);
  let z0 = u32(f0.z);
  let dx = select(0u, 1u, f0.x < last.x);
  let dy = select(0u, wp.nx, f0.y < last.y);
  let dz = select(0u, wp.nx * wp.ny, f0.z < last.z);
  let i = x0 + wp.nx * (y0 + wp.ny * z0);
  let c00 = image[i] * (1.0 - f.x) + image[i + dx] * f.x;
  let c10 = image[i + dy] * (1.0 - f.x) + image[i + dy + dx] * f.x;
  let c01 = image[i + dz] * (1.0 - f.x) + image[i + dz + dx] * f.x;
  let c11 = image[i + dz + dy] * (1.0 - f.x) + image[i + dz + dy + dx] * f.x;
  return (c00 * (1.0 - f.y) + c10 * f.y) * (1.0 - f.z) + (c01 * (1.0 - f.y) + c11 * f.y) * f.z;
}

fn sampleNearest(q: vec3<f32>, last: vec3<f32>) -> f32 {
  let r = clamp(floor(q + vec3<f32>(0.5)), vec3<f32>(0.0), last);
  return label[u32(r.x) + wp.nx * (u32(r.y) + wp.ny * u32(r.z))];
}

// Backward mapping: output voxel p samples the input at p + displacement[p]. The image gets
// `outside` beyond the edge, the label 0 (background); both land at outOffset in the outputs. With
// mirror axes, voxel n gets what its mirror image would have got, i.e. the warped volume mirrored.
@compute @workgroup_size(WG)
fn warp(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = gid.x + gid.y * nwg.x * WG;
  let plane = wp.nx * wp.ny;
  let total = plane * wp.nz;
  if (n >= total) { return; }
  let lastVoxel = vec3<u32>(wp.nx - 1u, wp.ny - 1u, wp.nz - 1u);
  let v = vec3<u32>(n % wp.nx, (n / wp.nx) % wp.ny, n / plane);
  let m = select(v, lastVoxel - v, (vec3<u32>(wp.mirror) & vec3<u32>(1u, 2u, 4u)) != vec3<u32>(0u));
  let s = m.x + wp.nx * (m.y + wp.ny * m.z);
  let q = vec3<f32>(m) + vec3<f32>(displacement[s], displacement[total + s], displacement[2u * total + s]);
  let last = vec3<f32>(lastVoxel);
  let inside = isInside(q, last);
  outImage[wp.outOffset + n] = select(wp.outside, sampleLinear(q, last), inside);
  outLabel[wp.outOffset + n] = select(0.0, sampleNearest(q, last), inside);
}

// --- Histogram matching -------------------------------------------------------------------------
// stats = [min key, max key, count of bin 0, ..., count of bin bins−1]; cdf = the exclusive prefix
// sums of the counts (cdf[0] = 0, cdf[bins] = n), i.e. augment.ts's cdf times n, exactly. The lookup
// entries read the [min key, max key] pair alone (a copy of stats' first two words: srcRange, refRange).

// Bound by name (src/device/kernel-info.ts), so every variable has its own binding number: the
// lookup entries read min/max keys and cdfs without atomics or write access, which lets a volume
// be matched to itself (one buffer as both source and reference).
@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read_write> stats: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> cdfOut: array<u32>;
@group(0) @binding(3) var<storage, read> srcRange: array<u32>;
@group(0) @binding(4) var<storage, read> cdf: array<u32>;
@group(0) @binding(5) var<storage, read> refRange: array<u32>;
@group(0) @binding(6) var<storage, read> refCdf: array<u32>;
@group(0) @binding(7) var<storage, read_write> tableOut: array<f32>;
@group(0) @binding(8) var<storage, read> table: array<f32>;
@group(0) @binding(9) var<storage, read_write> matched: array<f32>;
@group(0) @binding(10) var<uniform> hp: HistParams;

// Float order as unsigned order (NaN aside), so integer atomicMin/Max find the float min/max.
fn orderKey(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn fromKey(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

struct Range {
  min: f32,
  width: f32,
}

fn rangeOf(minKey: u32, maxKey: u32) -> Range {
  let lo = fromKey(minKey);
  return Range(lo, (fromKey(maxKey) - lo) / f32(hp.bins));
}

fn binOf(v: f32, r: Range) -> u32 {
  if (r.width > 0.0) { return min(u32(max(floor((v - r.min) / r.width), 0.0)), hp.bins - 1u); }
  return 0u;
}

// Empties the min/max keys and the counts (bins + 2 invocations).
@compute @workgroup_size(WG)
fn histClear(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= hp.bins + 2u) { return; }
  atomicStore(&stats[i], select(0u, 0xffffffffu, i == 0u));
}

// Min and max over the values: each invocation strides over n / stride of them, then one atomic
// each (no workgroup tree: barriers are what costs most on a software adapter).
@compute @workgroup_size(WG)
fn histRange(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= hp.stride) { return; }
  var lo = 0xffffffffu;
  var hi = 0u;
  for (var i = t; i < hp.n; i += hp.stride) {
    let k = orderKey(values[i]);
    lo = min(lo, k);
    hi = max(hi, k);
  }
  atomicMin(&stats[0], lo);
  atomicMax(&stats[1], hi);
}

// Striding like histRange, so the range is decoded once per invocation rather than per value.
@compute @workgroup_size(WG)
fn histCount(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= hp.stride) { return; }
  let r = rangeOf(atomicLoad(&stats[0]), atomicLoad(&stats[1]));
  for (var i = t; i < hp.n; i += hp.stride) { atomicAdd(&stats[2u + binOf(values[i], r)], 1u); }
}

var<workgroup> wgSum: array<u32, WG>;

// The prefix sums of the counts, in one workgroup: each invocation sums a run of bins, a serial
// scan over the WG run totals gives each run's start, then each invocation writes its run.
@compute @workgroup_size(WG)
fn histCumulate(@builtin(local_invocation_index) lid: u32) {
  let run = (hp.bins + WG - 1u) / WG;
  let first = lid * run;
  let end = min(first + run, hp.bins);
  var total = 0u;
  for (var b = first; b < end; b++) { total += atomicLoad(&stats[2u + b]); }
  wgSum[lid] = total;
  workgroupBarrier();
  if (lid == 0u) {
    var acc = 0u;
    for (var k = 0u; k < WG; k++) {
      let t = wgSum[k];
      wgSum[k] = acc;
      acc += t;
    }
    cdfOut[hp.bins] = acc;
  }
  workgroupBarrier();
  var acc = wgSum[lid];
  for (var b = first; b < end; b++) {
    cdfOut[b] = acc;
    acc += atomicLoad(&stats[2u + b]);
  }
}

// 64-bit unsigned arithmetic as (low, high) words: the quantile comparisons below are exact
// products of counts (up to 2^31 · 2^32), which float32 would round.
fn mul64(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>((p00 & 0xffffu) | (mid << 16u), a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}

fn sub64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));
}

fn less64(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.y < b.y || (a.y == b.y && a.x < b.x);
}

fn toF32(a: vec2<u32>) -> f32 {
  return f32(a.y) * 4294967296.0 + f32(a.x);
}

// For each source bin, the reference value at the bin's mid-rank quantile q (augment.ts
// matchHistogram): the first reference bin r whose cdf reaches q, then linear within it. With
// n = hp.n source and N = hp.nRef reference values, cdfRef[r]/N < q ⇔ 2n·cdfRef[r] < N·(cdf[b] + cdf[b+1]).
@compute @workgroup_size(WG)
fn histTable(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = gid.x + gid.y * nwg.x * WG;
  if (b >= hp.bins) { return; }
  let q = mul64(hp.nRef, cdf[b] + cdf[b + 1u]);
  // Binary search for the first r in [0, bins − 1] with cdfRef[r + 1] ≥ q (r = bins − 1 if none).
  var lo = 0u;
  var hi = hp.bins - 1u;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (less64(mul64(2u * hp.n, refCdf[mid + 1u]), q)) { lo = mid + 1u; } else { hi = mid; }
  }
  let mass = refCdf[lo + 1u] - refCdf[lo];
  var frac = 0.5;
  if (mass > 0u) { frac = toF32(sub64(q, mul64(2u * hp.n, refCdf[lo]))) / toF32(mul64(2u * hp.n, mass)); }
  let r = rangeOf(refRange[0], refRange[1]);
  tableOut[b] = r.min + (f32(lo) + frac) * r.width;
}

// Each source value through the table of its bin, into matched at outOffset.
@compute @workgroup_size(WG)
fn histApply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= hp.n) { return; }
  let r = rangeOf(srcRange[0], srcRange[1]);
  matched[hp.outOffset + i] = table[binOf(values[i], r)];
}
