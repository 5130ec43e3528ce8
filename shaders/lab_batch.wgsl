// One training or evaluation batch of the score-matching lab, drawn on the GPU (src/lab/batch.ts):
// for each point b < B, from Philox-4x32-10 keyed by (seed, step) (shaders/philox.wgsl):
//   x_b     ~ the source: a component k by its cumulative weight (binary search on u), then
//             mu_k + L_k z0 (z0 ~ N(0, I)). The empirical distribution of a training set is a
//             source with zero L (a point picked uniformly).
//   sigma_b = sigmas[l], l uniform in 0..L-1 (one level: the fixed sigma)
//   z_b     ~ N(0, I);  x~_b = x_b + sigma_b z_b when NOISE is on, else x_b
// and writes the model's input rows [R = B (1 + M), din]: row b = (x~_b, log sigma_b if din > D),
// row m B + b (m = 1..M) = the tangent v_m of point b with 0 in the conditioning column:
//   tangent_mode 1 basis: v_m = e_m (exact Jacobian trace, M = D); 2 Gaussian N(0, I);
//   3 Rademacher (+-1 each coordinate).
// It also keeps x_b (clean), z_b (noise) and sigma_b for the objectives.
// Counter (b, stream, block, 0): stream 1 = source, 2 = noise, 3 = level, 4 = tangents; key (seed, step).
// Params {batch, d, din, k, stride (floats per source component), m, tangent_mode, levels, noise}.
// Bindings: 0 params, 1 rng {seed, step} (uniform), 2 source (read), 3 sigmas (read) [L],
//           4 input (rw) [R, din], 5 clean (rw) [B, d], 6 noise (rw) [B, d], 7 sigma (rw) [B].
// Dispatch: grid1d(B, WG).

#include philox

override WG: u32 = 64;
#include grid
const MAX_D: u32 = 8u;

struct Params { batch: u32, d: u32, din: u32, k: u32, stride: u32, m: u32, tangent_mode: u32, levels: u32, noise: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> rng: RngState;
@group(0) @binding(2) var<storage, read> source: array<f32>;
@group(0) @binding(3) var<storage, read> sigmas: array<f32>;
@group(0) @binding(4) var<storage, read_write> model_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> clean: array<f32>;
@group(0) @binding(6) var<storage, read_write> noise: array<f32>;
@group(0) @binding(7) var<storage, read_write> sigma: array<f32>;

fn words(b: u32, stream: u32, block: u32) -> vec4u {
  return philox4x32_10(vec4u(b, stream, block, 0u), vec2u(rng.seed, rng.step));
}

fn uniform01(w: u32) -> f32 { return f32(w >> 8u) * (1.0 / 16777216.0); }

// The i-th standard normal of (b, stream): block i / 4, Box-Muller on its word pairs.
fn normal_at(b: u32, stream: u32, i: u32) -> f32 {
  let w = words(b, stream, i / 4u);
  let j = i % 4u;
  let z = select(box_muller(w.z, w.w), box_muller(w.x, w.y), j < 2u);
  return z[j % 2u];
}

@compute @workgroup_size(WG)
fn prepare_batch(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = flat_index(gid, nwg);
  if (b >= p.batch) { return; }
  // The source component: the first k with cumulative weight > u.
  let u = uniform01(words(b, 1u, 0u).x);
  var lo = 0u;
  var hi = p.k - 1u;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (source[mid * p.stride] > u) { hi = mid; } else { lo = mid + 1u; }
  }
  let base = lo * p.stride;
  var z0: array<f32, MAX_D>;
  for (var j = 0u; j < p.d; j++) { z0[j] = normal_at(b, 1u, 4u + j); }
  let level = min(p.levels - 1u, u32(uniform01(words(b, 3u, 0u).x) * f32(p.levels)));
  let s = sigmas[level];
  sigma[b] = s;
  for (var i = 0u; i < p.d; i++) {
    var v = source[base + 1u + i];
    for (var j = 0u; j <= i; j++) { v += source[base + 1u + p.d + i * p.d + j] * z0[j]; }
    clean[b * p.d + i] = v;
    let z = normal_at(b, 2u, i);
    noise[b * p.d + i] = z;
    model_in[b * p.din + i] = select(v, v + s * z, p.noise != 0u);
  }
  if (p.din > p.d) { model_in[b * p.din + p.d] = log(s); }
  for (var m = 0u; m < p.m; m++) {
    let row = (m + 1u) * p.batch + b;
    for (var j = 0u; j < p.d; j++) {
      var v = 0.0;
      switch p.tangent_mode {
        case 1u: { v = select(0.0, 1.0, j == m); }
        case 2u: { v = normal_at(b, 4u, m * p.d + j); }
        default: {
          let i = m * p.d + j;
          v = select(-1.0, 1.0, (words(b, 4u, i / 4u)[i % 4u] & 0x80000000u) != 0u);
        }
      }
      model_in[row * p.din + j] = v;
    }
    if (p.din > p.d) { model_in[row * p.din + p.d] = 0.0; }
  }
}
