// SGD with momentum, weight decay and Nesterov, in place, PyTorch's formulation:
//   d = g + weightDecay·p;  buf = momentum·buf + (1 − dampening)·d  (buf = d on the first step)
//   d = nesterov ? d + momentum·buf : buf;  p −= lr·d
struct Params {
  n: u32,
  lr: f32,
  momentum: f32,
  dampening: f32,
  weightDecay: f32,
  nesterov: u32,
  first: u32,
  _pad: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let d = grad[i] + p.weightDecay * param[i];
  var b = d;
  if (p.first == 0u) {
    b = p.momentum * buf[i] + (1.0 - p.dampening) * d;
  }
  buf[i] = b;
  let step = select(b, d + p.momentum * b, p.nesterov != 0u);
  param[i] = param[i] - p.lr * step;
}

// momentum = 0: no buffer to keep.
@compute @workgroup_size(WG)
fn plain(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  param[i] = param[i] - p.lr * (grad[i] + p.weightDecay * param[i]);
}
