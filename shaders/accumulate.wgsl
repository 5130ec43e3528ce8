// In-place accumulation of one flat float32 array into another: y += x.
// Backward passes need it where a tensor's gradient has several contributions and the op producing
// one of them cannot accumulate itself (an identity residual's gradient is added to the one from the
// block's first GroupNorm). WebGPU forbids binding one range both read and read_write, so
// elementwise `add` cannot do this in place.
// Bindings: 0 params {n}, 1 x (read), 2 y (rw).
// Dispatch: grid1d(n, WG); flat index: flat_index (shaders/grid.wgsl).

override WG: u32 = 256;

#include grid

struct Params { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// y[i] += x[i] for i < n.
@compute @workgroup_size(WG)
fn add_into(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  y[i] = y[i] + x[i];
}
