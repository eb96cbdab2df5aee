// Counts the labels that are not class indices (integers in [0, classes)), for checkLabels: the
// losses themselves read such labels as background rather than fail. A split reduction
// (src/ops/row-sums.ts) over a single row of all labels.
struct Params {
  rows: u32,
  rowLength: u32,
  chunks: u32,
  classes: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> labels: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn countInvalid(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.rows * p.chunks) { return; }
  var count = 0.0;
  for (var i = t; i < p.rowLength; i += p.chunks) {
    let v = labels[i];
    // Written so that NaN (every comparison false) counts as invalid.
    let valid = v >= 0.0 && v < f32(p.classes) && v == floor(v);
    count += select(1.0, 0.0, valid);
  }
  partials[t] = count;
}
