// The per-step update of the samplers (SPEC.md section 4), fused with its noise into one dispatch.
// Per sample b (flat index i, b = i / chw), with st = levels_t[b, 2] (sigma at t), sn = levels_n[b, 2]
// (sigma at t - dt) and z ~ N(0, 1) from Philox keyed by (seed, step) (stream p.stream):
//   x[i] = a * x[i] + cn * yn[i] + ct * yt[i] + s * z
//   mode 0 momentum:          rho = sn^2 / st^2;  a = rho,   cn = 1, ct = -rho,   s = sqrt(max(st^2 - sn^2, 0))
//   mode 1 probability flow:  kappa = (1 + rho) / 2; a = kappa, cn = 1, ct = -kappa, s = 0
//   mode 2 naive:             a = 0, cn = 1, ct = 0, s = sn
//   mode 3 annealed Langevin: alpha = eps st^2 / sL^2; a = 1 - alpha / st^2, cn = 0, ct = alpha / st^2,
//                             s = sqrt(2 alpha)   [alpha * s_theta = (alpha / st^2)(C_t x0hat - x): the
//                             1 / st^2 of the score cancels, so nothing large is formed in float32]
// with yn = C_{t-dt} x0hat and yt = C_t x0hat. `fused` = 1: yn already holds C_{t-dt} x0hat - a C_t x0hat
// (one DCT-domain filter for the blur) and ct is taken as 0.
// Bindings: 0 params, 1 rng state {seed, step} (uniform), 2 levels_t (read, [B, 4]), 3 levels_n (read,
//   [B, 4]), 4 yn (read), 5 yt (read), 6 x (rw).
// Dispatch: grid1d(ceil(n / 4), WG); one invocation updates the 4 elements of one RNG quad.
//
// clip_x0hat (the sampler's optional clip, run right after the denoiser so that both C x0hat terms and
// the output see it): x0hat[i] = clamp(x0hat[i], lo, hi).
// Bindings: 0 ClipParams {n, lo, hi}, 1 x0hat (rw). Dispatch: grid1d(n, WG).

#include philox

override WG: u32 = 64;

#include grid
#include levels

struct Params { n: u32, chw: u32, mode: u32, fused: u32, stream: u32, eps_over_sl2: f32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> rng: RngState;
@group(0) @binding(2) var<storage, read> levels_t: array<f32>;
@group(0) @binding(3) var<storage, read> levels_n: array<f32>;
@group(0) @binding(4) var<storage, read> yn: array<f32>;
@group(0) @binding(5) var<storage, read> yt: array<f32>;
@group(0) @binding(6) var<storage, read_write> x: array<f32>;

// (a, cn, ct, s) of the update for sample b.
fn coefficients(b: u32) -> vec4f {
  let st = levels_t[level_index(b, LEVEL_SIGMA)];
  let sn = levels_n[level_index(b, LEVEL_SIGMA)];
  let st2 = st * st;
  let sn2 = sn * sn;
  let rho = sn2 / st2;
  var c: vec4f;
  switch p.mode {
    case 0u: { c = vec4f(rho, 1.0, -rho, sqrt(max(st2 - sn2, 0.0))); }
    case 1u: { let kappa = 0.5 * (1.0 + rho); c = vec4f(kappa, 1.0, -kappa, 0.0); }
    case 2u: { c = vec4f(0.0, 1.0, 0.0, sn); }
    default: {
      let g = p.eps_over_sl2; // alpha / st^2
      c = vec4f(1.0 - g, 0.0, g, sqrt(2.0 * g * st2));
    }
  }
  if (p.fused == 1u) { c.z = 0.0; }
  return c;
}

// x <- a x + cn yn + ct yt + s z for the 4 elements of quad q.
@compute @workgroup_size(WG)
fn sampler_update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = flat_index(gid, nwg);
  let base = 4u * q;
  if (base >= p.n) { return; }
  var z = vec4f(0.0);
  if (p.mode != 1u) { z = normal4(rng.seed, rng.step, p.stream, q); }
  for (var j = 0u; j < 4u; j++) {
    let i = base + j;
    if (i >= p.n) { break; }
    let c = coefficients(i / p.chw);
    var v = c.x * x[i] + c.y * yn[i] + c.w * z[j];
    if (c.z != 0.0) { v = v + c.z * yt[i]; }
    x[i] = v;
  }
}

struct ClipParams { n: u32, lo: f32, hi: f32, _a: u32 }

@group(0) @binding(0) var<uniform> cp: ClipParams;
@group(0) @binding(1) var<storage, read_write> x0hat: array<f32>;

@compute @workgroup_size(WG)
fn clip_x0hat(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= cp.n) { return; }
  x0hat[i] = clamp(x0hat[i], cp.lo, cp.hi);
}
