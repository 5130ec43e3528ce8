// Global average pooling over the spatial positions of each (sample, channel) plane:
//   avgpool_forward   y[r] = (1 / hw) sum_{j < hw} x[r * hw + j],  r < rows = n * c
//                     one invocation per row (hw is small at the end of a classifier: 8x8), serial sum.
//   avgpool_backward  dx[r * hw + j] = dy[r] / hw  (ACCUMULATE: added to dx instead)
//                     one invocation per element of dx.
// Bindings: forward 0 params, 1 x, 2 y (rw); backward 0 params, 1 dy, 2 dx (rw).
// Params {rows, hw}. One-dimensional grids (grid1d, flat_index).

override WG: u32 = 64;

#include grid

struct Params { rows: u32, hw: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn avgpool_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_index(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.hw;
  var acc = 0.0;
  for (var j = 0u; j < p.hw; j++) { acc += src[base + j]; }
  dst[r] = acc / f32(p.hw);
}

@compute @workgroup_size(WG)
fn avgpool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.rows * p.hw) { return; }
  let g = src[i / p.hw] / f32(p.hw);
#if ACCUMULATE
  dst[i] += g;
#else
  dst[i] = g;
#endif
}
