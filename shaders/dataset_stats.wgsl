// Per-coefficient moments of one batch of DCT coefficients (the level scheduler's data set pass,
// SPEC.md section 5). For q in [0, CHW): mean_q = (1/n) sum_b X[b, q] and
// m2_q = sum_b (X[b, q] - mean_q)^2 (two passes over the batch, so m2 does not cancel in float32).
// The host merges batches with Chan's formula in float64.
// Bindings: 0 params {n, chw}, 1 X (read, [n, CHW]), 2 out (rw, [2, CHW]: means then m2).
// Dispatch: grid1d(CHW, WG).

override WG: u32 = 64;

#include grid

struct Params { n: u32, chw: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// out[q] = batch mean of coefficient q; out[chw + q] = sum of squared deviations from it.
@compute @workgroup_size(WG)
fn batch_moments(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = flat_index(gid, nwg);
  if (q >= p.chw) { return; }
  var s = 0.0;
  for (var b = 0u; b < p.n; b++) { s = s + X[b * p.chw + q]; }
  let mean = s / f32(p.n);
  var m2 = 0.0;
  for (var b = 0u; b < p.n; b++) {
    let d = X[b * p.chw + q] - mean;
    m2 = m2 + d * d;
  }
  out[q] = mean;
  out[p.chw + q] = m2;
}
