// Langevin dynamics for the score-matching lab (src/lab/langevin.ts):
//   x <- x + alpha s(x) + sqrt(2 alpha) z,   z ~ N(0, I)
// with s a model's output or a mixture's exact score, both computed into `score` by the dispatch
// before. Annealed Langevin (NCSN) runs this at each level sigma_i with alpha_i = eps sigma_i^2 /
// sigma_L^2; the host rewrites `params` between levels, and a conditional model reads log sigma_i
// from its input's extra column, which these kernels keep set.
// The chain lives in the model's input rows x [n, din]. Noise is keyed by (seed, counter[0]) with
// counter (b, 5, block, 0); `langevin_advance` (one invocation) moves the counter on after each step,
// so one submit can hold many steps with fresh noise for each.
// Params {n, d, din, _, alpha, noise_scale = sqrt(2 alpha), log_sigma, _}.
// Bindings:
//   langevin_step:      0 params, 1 rng {seed, _} (uniform), 2 counter (read) [1] u32, 3 score (read) [n, d], 4 x (rw) [n, din]
//   langevin_set_level: 0 params, 1 x (rw) [n, din]                     (writes log sigma into column d)
//   langevin_advance:   0 params, 1 counter (rw) [1] u32
// Dispatch: grid1d(n, WG) for step and set_level; [1, 1, 1] for advance.

#include philox

override WG: u32 = 64;
#include grid

struct Params { n: u32, d: u32, din: u32, _pad: u32, alpha: f32, noise_scale: f32, log_sigma: f32, _pad2: f32 }

@group(0) @binding(0) var<uniform> p: Params;

#if STEP
@group(0) @binding(1) var<uniform> rng: RngState;
@group(0) @binding(2) var<storage, read> counter: array<u32>;
@group(0) @binding(3) var<storage, read> score: array<f32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(WG)
fn langevin_step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = flat_index(gid, nwg);
  if (b >= p.n) { return; }
  for (var blk = 0u; blk * 4u < p.d; blk++) {
    let w = philox4x32_10(vec4u(b, 5u, blk, 0u), vec2u(rng.seed, counter[0]));
    let z = vec4f(box_muller(w.x, w.y), box_muller(w.z, w.w));
    for (var j = 0u; j < 4u && blk * 4u + j < p.d; j++) {
      let i = blk * 4u + j;
      x[b * p.din + i] = x[b * p.din + i] + p.alpha * score[b * p.d + i] + p.noise_scale * z[j];
    }
  }
}
#endif

#if SET_LEVEL
@group(0) @binding(1) var<storage, read_write> xs: array<f32>;

@compute @workgroup_size(WG)
fn langevin_set_level(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = flat_index(gid, nwg);
  if (b >= p.n) { return; }
  xs[b * p.din + p.d] = p.log_sigma;
}
#endif

#if ADVANCE
@group(0) @binding(1) var<storage, read_write> count: array<u32>;

@compute @workgroup_size(1)
fn langevin_advance() {
  count[0] = count[0] + 1u;
}
#endif
