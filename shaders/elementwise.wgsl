// Element-wise kernels over flat float32 arrays of n elements.
//   add:           out = a + b
//   scale:         out = alpha * a
//   axpy:          out = alpha * a + b   (out may not share a buffer with a or b: WebGPU forbids binding
//                                         one buffer range as both read and read_write in a dispatch)
//   silu:          out = a * sigmoid(a)
//   silu_backward: out = b * sigmoid(a) * (1 + a * (1 - sigmoid(a)))   (a = pre-activation, b = dL/dout)
// Bindings: 0 params {n, alpha}, 1 a (read), 2 b (read; scale and silu ignore it: bind a), 3 out (rw).
// Dispatch: grid1d(n, WG); flat index: flat_index (shaders/grid.wgsl).

override WG: u32 = 256;

#include grid

struct Params { n: u32, alpha: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = a[i] + b[i];
}

@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = p.alpha * a[i];
}

@compute @workgroup_size(WG)
fn axpy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = p.alpha * a[i] + b[i];
}

@compute @workgroup_size(WG)
fn silu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let x = a[i];
  out[i] = x * sigmoid(x);
}

@compute @workgroup_size(WG)
fn silu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let x = a[i];
  let s = sigmoid(x);
  out[i] = b[i] * s * (1.0 + x * (1.0 - s));
}
