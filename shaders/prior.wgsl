// The prior p_1 of the samplers (SPEC.md section 4): draws of a Gaussian fitted to the m DCT
// coefficients of C_1 x0 that survive the strongest blur, and the noise sigma_1 eta added to any draw.
//   gather_coefficients: out[b, j] = scale[j] * X[b, index[j]]                (X: [B, CHW] DCT coefficients)
//   scatter_sample:      Y[b, q]   = mean[j] + sum_{r <= j} L[j, r] z[b, r]  where slot[q] = j + 1,
//                                    0 where slot[q] = 0;  z[b, r] = normal number (b * m + r) of
//                                    (seed, step, stream)                    (Y: [B, CHW])
//   add_noise:           x[i]     += sigma * normal number i of (seed, step, noise_stream)
//   gather_images:       out[b, :] = data[u_b mod count, :], u_b = Philox word b of (seed, step, stream)
// Layouts: row-major; L lower triangular [m, m]; index, slot u32.
// Bindings (all entries): 0 params, 1 rng state (uniform), 2 a (read), 3 b (read), 4 c (read),
//   5 out (rw). gather_coefficients: a = X, b = index (as f32 bits), c = scale. scatter_sample: a = L,
//   b = slot (bits), c = mean. add_noise: a, b, c unused (bind anything). gather_images: a = data.
// Dispatch: grid1d over the output elements (add_noise: over quads).

#include philox

override WG: u32 = 64;

#include grid

struct Params { n: u32, chw: u32, m: u32, count: u32, stream: u32, noise_stream: u32, sigma: f32, _a: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> rng: RngState;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b_words: array<u32>;
@group(0) @binding(4) var<storage, read> c: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

fn normal_at(i: u32, stream: u32) -> f32 {
  return normal4(rng.seed, rng.step, stream, i / 4u)[i % 4u];
}

// out[b, j] = c[j] * a[b * chw + b_words[j]] over n = B * m outputs.
@compute @workgroup_size(WG)
fn gather_coefficients(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let j = i % p.m;
  out[i] = c[j] * a[(i / p.m) * p.chw + b_words[j]];
}

// out[b, q] = mean[j] + (L z_b)[j] where slot[q] = j + 1, else 0; n = B * chw outputs.
@compute @workgroup_size(WG)
fn scatter_sample(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let s = b_words[i % p.chw];
  if (s == 0u) { out[i] = 0.0; return; }
  let j = s - 1u;
  let zb = (i / p.chw) * p.m;
  var v = c[j];
  for (var r = 0u; r <= j; r++) { v = v + a[j * p.m + r] * normal_at(zb + r, p.stream); }
  out[i] = v;
}

// out[i] += sigma * z_i for the 4 elements of one quad; n = element count.
@compute @workgroup_size(WG)
fn add_noise(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = flat_index(gid, nwg);
  if (4u * q >= p.n) { return; }
  let z = normal4(rng.seed, rng.step, p.noise_stream, q);
  for (var j = 0u; j < 4u; j++) {
    let i = 4u * q + j;
    if (i < p.n) { out[i] = out[i] + p.sigma * z[j]; }
  }
}

// out[b, e] = data[(word b) mod count, e]; n = B * chw outputs.
@compute @workgroup_size(WG)
fn gather_images(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let b = i / p.chw;
  let w = philox4x32_10(vec4u(b / 4u, p.stream, 0u, 0u), vec2u(rng.seed, rng.step))[b % 4u];
  out[i] = a[(w % p.count) * p.chw + i % p.chw];
}
