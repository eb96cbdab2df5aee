// Bench only (bench/ceiling.ts): the adapter's memory-bandwidth ceiling, and an empty kernel for
// the dispatch overhead. Bytes moved = bytes read + bytes written = 2 · buffer size.
struct Params {
  /** Elements to copy (vec4s; f32s for copyScalar). */
  n: u32,
  /** Threads in the whole grid: the stride of the grid-stride loop. */
  stride: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

// One vec4 per invocation: the plain elementwise pattern every op uses.
@compute @workgroup_size(WG)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  dst[i] = src[i];
}

// One f32 per invocation, as the elementwise ops are written: what such a kernel can stream.
@group(0) @binding(3) var<storage, read> srcScalar: array<f32>;
@group(0) @binding(4) var<storage, read_write> dstScalar: array<f32>;

@compute @workgroup_size(WG)
fn copyScalar(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  dstScalar[i] = srcScalar[i];
}

// A fixed grid that loops over the buffer: fewer, longer invocations (less per-workgroup cost on a
// CPU, where each workgroup is a task on a worker thread).
@compute @workgroup_size(WG)
fn copyLoop(@builtin(global_invocation_id) gid: vec3<u32>) {
  for (var i = gid.x; i < p.n; i += p.stride) {
    dst[i] = src[i];
  }
}

// Does nothing: the cost of a dispatch itself (encoding, submission, the driver's launch).
@compute @workgroup_size(1)
fn noop() {}
