// Training losses and their gradients w.r.t. the network output phi (SPEC.md sections 2, 3), and the
// forward corruption's noise term. x0hat = phi + x_t; e = x0hat - x0; n = C * H * W elements per sample;
// B samples; w_b = levels[b, 3]; sigma_b = levels[b, 2]; blur std s_b = levels[b, 1].
//   soft (any C):  per_sample[b] = w_b / n * (||C e_b||^2 + lambda ||e_b||^2),
//                  grad = 2 w_b / (B n) * (C^T C e_b + lambda e_b)     (lambda = p.x0w, the x0 weight, >= 0)
//   soft (DCT blur, Parseval): with E = DCT(e), ||C e||^2 + lambda ||e||^2 = sum (d^2 + lambda) E^2 and
//                  C^T C e + lambda e = IDCT((d^2 + lambda) .* E)
//   soft (C = I) and x0 (Cold Diffusion): per_sample[b] = (1 + lambda) w_b / n * ||e_b||^2,
//                  grad = 2 (1 + lambda) w_b / (B n) * e_b   (the x0 loss itself has lambda = 0)
//   DSM (NCSN, epsilon form): r = (C x0hat - x_t) / sigma_b + z   ( = sigma s_theta + z; 1/sigma^2 never formed)
//                  per_sample[b] = w_b / (2 n) * ||r_b||^2,        grad = w_b / (B n sigma_b) * C^T r_b
//   loss[0] = (1 / B) * sum_b per_sample[b]  (mean over batch of the per-sample mean over elements)
// Layout: all images [B, C, H, W] contiguous, levels [B, 4], per_sample [B], loss [1].
// Bindings (every entry): 0 params, 1 a (read), 2 b (read), 3 c (read), 4 levels (read),
//   5 out (rw), 6 per_sample (rw). Unused read slots are bound to any read tensor (sumsq_scale reads
//   a, the residual e, only when lambda > 0).
// Dispatch: residual, add_x0_term and add_sigma_noise: grid1d(B * n, WG); the per-sample entries: (B, 1, 1)
//   workgroups, one per sample; batch_mean: (1, 1, 1). WG must be a power of two (tree reduction).

override WG: u32 = 256;

#include grid
#include levels
#include workgroup_reduce

struct Params { chw: u32, batch: u32, h: u32, w: u32, total: u32, x0w: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b_in: array<f32>;
@group(0) @binding(3) var<storage, read> c_in: array<f32>;
@group(0) @binding(4) var<storage, read> levels: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> per_sample: array<f32>;

const PI: f32 = 3.14159265358979;

// out = a + b - c   (e = phi + x_t - x0)
@compute @workgroup_size(WG)
fn residual(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.total) { return; }
  out[i] = a[i] + b_in[i] - c_in[i];
}

// out holds E = DCT(e) of sample wid.x; out <- 2 w/(B n) (d^2 + lambda) E; per_sample <- w/n sum (d^2 + lambda) E^2
@compute @workgroup_size(WG)
fn blur_spectral_loss(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  let s = wid.x;
  let base = s * p.chw;
  let sb = levels[level_index(s, LEVEL_C)];
  let wt = levels[level_index(s, LEVEL_WEIGHT)];
  let g = 2.0 * wt / (f32(p.batch) * f32(p.chw));
  var acc = 0.0;
  for (var i = lid; i < p.chw; i = i + WG) {
    let fk = PI * f32((i / p.w) % p.h) / f32(p.h);
    let fl = PI * f32(i % p.w) / f32(p.w);
    let wk = exp(-(fk * fk + fl * fl) * sb * sb) + p.x0w; // d^2 + lambda
    let e = out[base + i];
    acc = acc + wk * e * e;
    out[base + i] = g * wk * e;
  }
  let total = workgroup_sum(lid, acc);
  if (lid == 0u) { per_sample[s] = wt * total / f32(p.chw); }
}

// out holds u = C e of sample wid.x (a: e where lambda > 0); per_sample <- w/n (||u||^2 + lambda ||e||^2);
// out <- 2 w/(B n) u (then C^T, and add_x0_term where lambda > 0, give the gradient)
@compute @workgroup_size(WG)
fn sumsq_scale(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  let s = wid.x;
  let base = s * p.chw;
  let wt = levels[level_index(s, LEVEL_WEIGHT)];
  let g = 2.0 * wt / (f32(p.batch) * f32(p.chw));
  var acc = 0.0;
  for (var i = lid; i < p.chw; i = i + WG) {
    let u = out[base + i];
    acc = acc + u * u;
    out[base + i] = g * u;
  }
  if (p.x0w > 0.0) {
    for (var i = lid; i < p.chw; i = i + WG) {
      let e = a[base + i];
      acc = acc + p.x0w * e * e;
    }
  }
  let total = workgroup_sum(lid, acc);
  if (lid == 0u) { per_sample[s] = wt * total / f32(p.chw); }
}

// e = a + b - c (phi + x_t - x0); out <- 2 (1 + lambda) w/(B n) e; per_sample <- (1 + lambda) w/n ||e||^2
@compute @workgroup_size(WG)
fn x0_loss(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  let s = wid.x;
  let base = s * p.chw;
  let wt = levels[level_index(s, LEVEL_WEIGHT)];
  let scale = 1.0 + p.x0w;
  let g = 2.0 * scale * wt / (f32(p.batch) * f32(p.chw));
  var acc = 0.0;
  for (var i = lid; i < p.chw; i = i + WG) {
    let e = a[base + i] + b_in[base + i] - c_in[base + i];
    acc = acc + e * e;
    out[base + i] = g * e;
  }
  let total = workgroup_sum(lid, acc);
  if (lid == 0u) { per_sample[s] = scale * wt * total / f32(p.chw); }
}

// out += 2 lambda w_b/(B n) a (a = e; the x0 term of the soft loss's gradient on the generic path)
@compute @workgroup_size(WG)
fn add_x0_term(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.total) { return; }
  let wt = levels[level_index(i / p.chw, LEVEL_WEIGHT)];
  out[i] = out[i] + 2.0 * p.x0w * wt / (f32(p.batch) * f32(p.chw)) * a[i];
}

// out holds u = C x0hat; b = x_t, c = z: r = (u - x_t) / sigma + z; out <- w/(B n sigma) r; per_sample <- w/(2n) ||r||^2
@compute @workgroup_size(WG)
fn dsm_residual(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  let s = wid.x;
  let base = s * p.chw;
  let sigma = levels[level_index(s, LEVEL_SIGMA)];
  let wt = levels[level_index(s, LEVEL_WEIGHT)];
  let g = wt / (f32(p.batch) * f32(p.chw)) / sigma;
  var acc = 0.0;
  for (var i = lid; i < p.chw; i = i + WG) {
    let r = (out[base + i] - b_in[base + i]) / sigma + c_in[base + i];
    acc = acc + r * r;
    out[base + i] = g * r;
  }
  let total = workgroup_sum(lid, acc);
  if (lid == 0u) { per_sample[s] = 0.5 * wt * total / f32(p.chw); }
}

// out[0] = mean of per_sample over the batch (one workgroup)
@compute @workgroup_size(WG)
fn batch_mean(@builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  var acc = 0.0;
  for (var i = lid; i < p.batch; i = i + WG) { acc = acc + per_sample[i]; }
  let total = workgroup_sum(lid, acc);
  if (lid == 0u) { out[0] = total / f32(p.batch); }
}

// out += sigma_b * a   (x_t = C x0 + sigma noise; out holds C x0, a is the noise)
@compute @workgroup_size(WG)
fn add_sigma_noise(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.total) { return; }
  out[i] = out[i] + levels[level_index(i / p.chw, LEVEL_SIGMA)] * a[i];
}
