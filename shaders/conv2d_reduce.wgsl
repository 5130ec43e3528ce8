// Reductions for the convolution's backward pass.
//   bias_grad:  db[co] = sum_{n,oy,ox} dy[n,co,oy,ox]            bindings: 0 params, 1 dy, 2 db
//   sum_splits: dw[i] = sum_{s < splits} part[s * len + i]        bindings: 0 params, 1 part, 2 dw
// Layouts: dy[n,cout,ho,wo] NCHW float32; part[splits, len] (len = cout*cin*k*k) from a split-K
// weight-gradient GEMM. Dispatches: bias_grad (cout, 1, 1) with WG lanes; sum_splits grid1d(len, WG).

override WG: u32 = 64;

#include grid
#include workgroup_reduce

struct Params {
  n: u32, cout: u32, ohw: u32, splits: u32,
  len: u32, _p0: u32, _p1: u32, _p2: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// Contract: dst[co] = sum of src over the n*ho*wo positions of channel co (one workgroup per co).
@compute @workgroup_size(WG)
fn bias_grad(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let co = wid.x;
  var s = 0.0;
  for (var ni = 0u; ni < p.n; ni++) {
    let row = (ni * p.cout + co) * p.ohw;
    for (var i = lid; i < p.ohw; i += WG) { s += src[row + i]; }
  }
  let total = workgroup_sum(lid, s);
  if (lid == 0u) { dst[co] = total; }
}

// Contract: dst[i] = sum over splits of src[s * len + i].
@compute @workgroup_size(WG)
fn sum_splits(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.len) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.splits; k++) { s += src[k * p.len + i]; }
  dst[i] = s;
}
