// The exact denoiser for Gaussian data (SPEC.md section 6), in the DCT domain: for x0 ~ N(0, diag(s))
// in the orthonormal DCT basis and x_t = C_t x0 + sigma eta with C_t the DCT blur (d = 1 for the
// identity corruption),
//   X0hat[b, c, k, l] = d s / (d^2 s + sigma^2) * Xt[b, c, k, l],
//   d = exp(-(lambda_k + lambda_l) sigmaB^2 / 2), lambda_k = (pi k / H)^2, sigmaB = levels[b, 1],
//   sigma = levels[b, 2], s = variance[c, k, l].
// Bindings: 0 params {n, c, h, w, blur}, 1 levels (read, [B, 4]), 2 variance (read, [C, H, W]),
//   3 xt_dct (read, [B, C, H, W]), 4 out (rw, [B, C, H, W]).
// Dispatch: grid1d(n, WG).

override WG: u32 = 256;

#include grid
#include levels

struct Params { n: u32, c: u32, h: u32, w: u32, blur: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> levels: array<f32>;
@group(0) @binding(2) var<storage, read> variance: array<f32>;
@group(0) @binding(3) var<storage, read> xt_dct: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const PI: f32 = 3.14159265358979;

// out[i] = d s / (d^2 s + sigma^2) * xt_dct[i]
@compute @workgroup_size(WG)
fn gaussian_posterior_mean(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let hw = p.h * p.w;
  let l = i % p.w;
  let k = (i / p.w) % p.h;
  let ckl = i % (p.c * hw);
  let b = i / (p.c * hw);
  var d = 1.0;
  if (p.blur == 1u) {
    let fk = PI * f32(k) / f32(p.h);
    let fl = PI * f32(l) / f32(p.w);
    let sb = levels[level_index(b, LEVEL_C)];
    d = exp(-0.5 * (fk * fk + fl * fl) * sb * sb);
  }
  let sigma = levels[level_index(b, LEVEL_SIGMA)];
  let s = variance[ckl];
  out[i] = d * s / (d * d * s + sigma * sigma) * xt_dct[i];
}
