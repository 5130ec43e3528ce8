// The exact score of a Gaussian mixture at a batch of points (src/lab/mixture-gpu.ts), in one pass
// over the components with an online logsumexp (src/lab/mixture.ts has the float64 original):
//   l_k = c_k - (x - mu_k)^T P_k (x - mu_k) / 2,   score = sum_k e^(l_k - m) (-P_k (x - mu_k)) / sum_k e^(l_k - m)
// where m is the running maximum of l_k (rescaling the partial sums when it grows). The same kernel
// gives the score of p, of the smoothed q_sigma and of a Parzen-window estimate: they differ only in
// the component table.
// Layout of `comps` (pack()): per component [c_k, mu_k (D), P_k (D x D row-major)], stride 1 + D + D^2.
// Points are rows of `x` with row stride `din` (a model's input, whose extra column is ignored).
// Params {n, d (<= MAX_D), din, k (components), stride}.
// Bindings: 0 params, 1 comps (read), 2 x (read), 3 score (rw) [n, d].
// Dispatch: grid1d(n, WG); flat index = flat_index(gid, nwg) (grid.wgsl).

override WG: u32 = 64;
#include grid
const MAX_D: u32 = 8u;

struct Params { n: u32, d: u32, din: u32, k: u32, stride: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> comps: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> score: array<f32>;

@compute @workgroup_size(WG)
fn mixture_score(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = flat_index(gid, nwg);
  if (b >= p.n) { return; }
  var xv: array<f32, MAX_D>;
  var diff: array<f32, MAX_D>;
  var pd: array<f32, MAX_D>;
  var acc: array<f32, MAX_D>;
  for (var i = 0u; i < p.d; i++) { xv[i] = x[b * p.din + i]; acc[i] = 0.0; }
  var m = -1e30;
  var s = 0.0;
  for (var k = 0u; k < p.k; k++) {
    let base = k * p.stride;
    for (var i = 0u; i < p.d; i++) { diff[i] = xv[i] - comps[base + 1u + i]; }
    var q = 0.0;
    for (var i = 0u; i < p.d; i++) {
      var t = 0.0;
      for (var j = 0u; j < p.d; j++) { t += comps[base + 1u + p.d + i * p.d + j] * diff[j]; }
      pd[i] = t;
      q += diff[i] * t;
    }
    let l = comps[base] - 0.5 * q;
    if (l > m) {
      let f = exp(m - l);
      s = s * f + 1.0;
      for (var i = 0u; i < p.d; i++) { acc[i] = acc[i] * f - pd[i]; }
      m = l;
    } else {
      let e = exp(l - m);
      s += e;
      for (var i = 0u; i < p.d; i++) { acc[i] -= e * pd[i]; }
    }
  }
  for (var i = 0u; i < p.d; i++) { score[b * p.d + i] = acc[i] / s; }
}
