// The score-matching objectives, per point, with their gradients with respect to the model's stacked
// output rows (src/lab/objectives.ts; rows as in shaders/lab_mlp.wgsl: s_b = model_out[b], and
// sdot_{m,b} = model_out[m B + b] = J_s(x_b) v_m with v_m = the tangent input row):
//   mode 0 regress:  l_b = coef * w_b ||s_b - t_b||^2, t_b = target_score[b]
//                    (ESM against p, q_sigma or a Parzen estimate: t = that mixture's score, coef 1/2;
//                     the denoising-autoencoder loss ||r(x~) - x||^2: t = the clean point, coef 1)
//   mode 1 dsm:      the same with t_b = -z_b / sigma_b (the score of N(x~; x, sigma^2 I))
//   mode 2 trace:    l_b = c sum_m v_m . sdot_m + f(s_b),  c = trace_scale
//                    sliced off: f = ||s||^2 / 2      (ISM with v_m = e_m, c = 1: tr J + ||s||^2 / 2;
//                                                      variance-reduced sliced SM with c = 1 / M)
//                    sliced on:  f = c sum_m (v_m . s)^2 / 2    (sliced SM)
//   w_b = sigma_b^weight_power (0: 1; 2: NCSN's lambda(sigma) = sigma^2).
// Gradients of the batch mean (1/B) sum_b l_b: dout[b] = dl_b/ds_b / B, dout[m B + b] = dl_b/dsdot_m / B
// (zero for the regress modes).
// Params {batch B, d, m M, din, mode, sliced, weight_power, coef, trace_scale, inv_batch}.
// Bindings: 0 params, 1 out (read) [R, d], 2 input (read) [R, din], 3 target (read) [B, d],
//           4 noise (read) [B, d], 5 sigma (read) [B], 6 dout (rw) [R, d], 7 per_sample (rw) [B].
// Dispatch: grid1d(B, WG).

override WG: u32 = 64;
#include grid

struct Params { batch: u32, d: u32, m: u32, din: u32, mode: u32, sliced: u32, weight_power: u32, coef: f32, trace_scale: f32, inv_batch: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> model_out: array<f32>;
@group(0) @binding(2) var<storage, read> model_in: array<f32>;
@group(0) @binding(3) var<storage, read> target_score: array<f32>;
@group(0) @binding(4) var<storage, read> noise: array<f32>;
@group(0) @binding(5) var<storage, read> sigma: array<f32>;
@group(0) @binding(6) var<storage, read_write> dout: array<f32>;
@group(0) @binding(7) var<storage, read_write> per_sample: array<f32>;

@compute @workgroup_size(WG)
fn objective(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = flat_index(gid, nwg);
  if (b >= p.batch) { return; }
  var l = 0.0;
  if (p.mode < 2u) {
    let s = sigma[b];
    let w = select(1.0, pow(s, f32(p.weight_power)), p.weight_power != 0u);
    for (var j = 0u; j < p.d; j++) {
      let t = select(target_score[b * p.d + j], -noise[b * p.d + j] / s, p.mode == 1u);
      let r = model_out[b * p.d + j] - t;
      l += p.coef * w * r * r;
      dout[b * p.d + j] = 2.0 * p.coef * w * r * p.inv_batch;
    }
    for (var m = 1u; m <= p.m; m++) {
      for (var j = 0u; j < p.d; j++) { dout[(m * p.batch + b) * p.d + j] = 0.0; }
    }
  } else {
    let c = p.trace_scale;
    var ds: array<f32, 8>;
    for (var j = 0u; j < p.d; j++) {
      let s = model_out[b * p.d + j];
      ds[j] = select(s, 0.0, p.sliced != 0u);
      if (p.sliced == 0u) { l += 0.5 * s * s; }
    }
    for (var m = 1u; m <= p.m; m++) {
      let row = m * p.batch + b;
      var vs = 0.0;
      for (var j = 0u; j < p.d; j++) {
        let v = model_in[row * p.din + j];
        l += c * v * model_out[row * p.d + j];
        vs += v * model_out[b * p.d + j];
        dout[row * p.d + j] = c * v * p.inv_batch;
      }
      if (p.sliced != 0u) {
        l += 0.5 * c * vs * vs;
        for (var j = 0u; j < p.d; j++) { ds[j] += c * vs * model_in[row * p.din + j]; }
      }
    }
    for (var j = 0u; j < p.d; j++) { dout[b * p.d + j] = ds[j] * p.inv_batch; }
  }
  per_sample[b] = l;
}
