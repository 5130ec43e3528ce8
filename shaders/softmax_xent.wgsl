// Softmax and softmax cross-entropy over the rows of logits z [N, K] (K classes, row-major), with
// integer labels [N] (each < K; the host checks them before upload):
//   probs[n, k]  = exp(z[n, k] - m_n) / s_n,   m_n = max_k z[n, k],  s_n = sum_k exp(z[n, k] - m_n)
//   loss_n       = -log probs[n, label_n] = m_n + log s_n - z[n, label_n]
//   dz[n, k]     = (probs[n, k] - [k == label_n]) / N          (gradient of the mean loss)
//   correct_n    = 1 if label_n is the first index of the row's maximum, else 0
// Entries:
//   softmax_rows   probs only (inference). Bindings: 0 params, 1 z, 2 probs (rw).
//   xent_rows      Bindings: 0 params, 1 z, 2 labels (u32), 3 probs (rw), 4 dz (rw), 5 rows (rw):
//                  rows[n] = (loss_n, correct_n).
//   xent_mean      one workgroup: out[0] = mean_n loss_n, out[1] = mean_n correct_n (accuracy), each a
//                  per-lane serial sum then a workgroup tree. Bindings: 0 params, 1 rows (read), 2 out (rw).
// One invocation per row for the row entries (K is small: 10 classes), grid1d-folded (flat_index).
// Params {n, k}.

override WG: u32 = 64;

#include grid
#include workgroup_reduce

struct Params { n: u32, k: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs_out: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;
@group(0) @binding(5) var<storage, read_write> rows: array<vec2f>;
@group(0) @binding(1) var<storage, read> rows_in: array<vec2f>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// m_n and log s_n of row n (stable: every exponent is <= 0).
fn row_max_logsum(base: u32) -> vec2f {
  var m = z[base];
  for (var k = 1u; k < p.k; k++) { m = max(m, z[base + k]); }
  var s = 0.0;
  for (var k = 0u; k < p.k; k++) { s += exp(z[base + k] - m); }
  return vec2f(m, log(s));
}

@compute @workgroup_size(WG)
fn softmax_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = flat_index(gid, nwg);
  if (n >= p.n) { return; }
  let base = n * p.k;
  let ml = row_max_logsum(base);
  for (var k = 0u; k < p.k; k++) { probs_out[base + k] = exp(z[base + k] - ml.x - ml.y); }
}

@compute @workgroup_size(WG)
fn xent_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = flat_index(gid, nwg);
  if (n >= p.n) { return; }
  let base = n * p.k;
  let label = labels[n];
  let ml = row_max_logsum(base);
  let inv_n = 1.0 / f32(p.n);
  var best = 0u;
  for (var k = 0u; k < p.k; k++) {
    let q = exp(z[base + k] - ml.x - ml.y);
    probs[base + k] = q;
    dz[base + k] = (q - select(0.0, 1.0, k == label)) * inv_n;
    if (z[base + k] > z[base + best]) { best = k; }
  }
  rows[n] = vec2f(ml.x + ml.y - z[base + label], select(0.0, 1.0, best == label));
}

@compute @workgroup_size(WG)
fn xent_mean(@builtin(local_invocation_index) lane: u32) {
  var acc = vec2f(0.0);
  for (var n = lane; n < p.n; n += WG) { acc += rows_in[n]; }
  let total = workgroup_reduce(lane, acc, REDUCE_SUM);
  if (lane == 0u) {
    out[0] = total.x / f32(p.n);
    out[1] = total.y / f32(p.n);
  }
}
