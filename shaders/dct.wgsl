// Separable orthonormal DCT-II of a batch of images by matrix products, and the per-sample spectral
// multipliers of the heat-kernel (DCT) blur (SPEC.md section 1).
//   D_N: the N x N orthonormal DCT-II matrix, row-major, D[k, i] = a_k cos(pi (2i + 1) k / (2N)).
//   Images: [S, H, W] contiguous, S = B * C slices; sample b = flat index / chw (chw = C * H * W).
//   Forward:  X = D_H x D_W^T  = cols(rows(x)) ;  inverse: x = D_H^T X D_W = rows_inv(cols_inv(X)).
//   Multiplier at DCT frequency (k, l) of sample b:
//     m = coef_a * d(sa)^power_a + coef_b * d(sb)^power_b,
//     d(s)^p = exp(-p * (lambda_k + lambda_l) * s^2 / 2),  lambda_k = (pi k / H)^2, lambda_l = (pi l / W)^2,
//     sa = levels_a[b, 1], sb = levels_b[b, 1] (blur std in pixels); with COEFS the coefficients are
//     further multiplied by coefs[b, 0] and coefs[b, 1] (per-sample values that live on the GPU).
//   d is never divided by: it underflows to 0 at large blur, which is fine for a product.
// Bindings: 0 params, 1 mat (read; rows: D_W^T forward, D_W inverse; cols: D_H; unused by
//   spectral_scale: bind src),
//   2 src (read), 3 dst (rw); with SCALE: 4 levels_a (read, [B, 4]), 5 levels_b (read, [B, 4]);
//   with SCALE and COEFS: 6 coefs (read, [B, 2]).
// Flags: INVERSE (cols: multiply by the transposed matrix; rows ignore it), SCALE (apply the multiplier after the column
//   transform; spectral_scale needs SCALE), COEFS (per-sample coefficient tensor).
// Dispatch: grid1d(S * H * W, WG); flat index: flat_index (shaders/grid.wgsl).

override WG: u32 = 256;

#include grid
#include levels

struct Params {
  n: u32,
  h: u32,
  w: u32,
  chw: u32,
  coef_a: f32,
  coef_b: f32,
  power_a: f32,
  power_b: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> mat: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
#if SCALE
@group(0) @binding(4) var<storage, read> levels_a: array<f32>;
@group(0) @binding(5) var<storage, read> levels_b: array<f32>;
#if COEFS
@group(0) @binding(6) var<storage, read> coefs: array<f32>;
#endif
#endif

const PI: f32 = 3.14159265358979;
#if SCALE
fn multiplier(b: u32, k: u32, l: u32) -> f32 {
  let fk = PI * f32(k) / f32(p.h);
  let fl = PI * f32(l) / f32(p.w);
  let half_lambda = 0.5 * (fk * fk + fl * fl);
  let sa = levels_a[level_index(b, LEVEL_C)];
  let sb = levels_b[level_index(b, LEVEL_C)];
  var ca = p.coef_a;
  var cb = p.coef_b;
#if COEFS
  ca = ca * coefs[2u * b];
  cb = cb * coefs[2u * b + 1u];
#endif
  var m = ca * exp(-p.power_a * half_lambda * sa * sa);
  if (cb != 0.0) { m = m + cb * exp(-p.power_b * half_lambda * sb * sb); }
  return m;
}
#endif

// dst[s, y, l] = sum_j src[s, y, j] * mat[j, l]: mat = D_W^T for the forward transform, D_W for the
// inverse (the host binds the transposed copy, so neighbouring invocations read neighbouring words)
@compute @workgroup_size(WG)
fn rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let l = i % p.w;
  let base = i - l;
  var acc = 0.0;
  for (var j = 0u; j < p.w; j++) {
    acc = acc + src[base + j] * mat[j * p.w + l];
  }
  dst[i] = acc;
}

// dst[s, k, x] = sum_i D_H[k, i] * src[s, i, x]   (INVERSE: D_H[i, k]); SCALE: times multiplier(b, k, x)
@compute @workgroup_size(WG)
fn cols(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let x = i % p.w;
  let k = (i / p.w) % p.h;
  let base = i - k * p.w;
  var acc = 0.0;
  for (var r = 0u; r < p.h; r++) {
#if INVERSE
    acc = acc + mat[r * p.h + k] * src[base + r * p.w];
#else
    acc = acc + mat[k * p.h + r] * src[base + r * p.w];
#endif
  }
#if SCALE
  acc = acc * multiplier(i / p.chw, k, x);
#endif
  dst[i] = acc;
}

#if SCALE
// dst[s, k, l] = multiplier(b, k, l) * src[s, k, l]   (src holds DCT coefficients)
@compute @workgroup_size(WG)
fn spectral_scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  dst[i] = src[i] * multiplier(i / p.chw, (i / p.w) % p.h, i % p.w);
}
#endif
