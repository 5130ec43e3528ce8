// Sinusoidal time features, float32: out [n, dim] with half = dim / 2,
//   t_b = levels[b * stride + offset],  f_k = exp(-ln(10000) k / half),
//   out[b, k] = sin(scale t_b f_k),  out[b, half + k] = cos(scale t_b f_k)   (k < half).
// The angle scale t f_k reaches ~1000 rad, where sin/cos of a float32 angle lose precision and GPU
// sin/cos are only specified on [-pi, pi]. So the host supplies turns[k] = scale f_k / (2 pi)
// (computed in float64, rounded once), and the kernel reduces t * turns[k] to a fraction of a turn
// in [-1/2, 1/2] exactly before calling sin/cos.
// Bindings: 0 params {n, dim, stride, offset}, 1 levels (read), 2 turns [half] (read), 3 out (rw).
// timestep_embedding: one invocation per output element; flat index: flat_index (shaders/grid.wgsl).

override WG: u32 = 64;

#include grid

struct Params { n: u32, dim: u32, stride: u32, offset: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> levels: array<f32>;
@group(0) @binding(2) var<storage, read> turns: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const TAU: f32 = 6.283185307179586;

// out[b, k] = sin or cos of the k-th frequency at t_b.
@compute @workgroup_size(WG)
fn timestep_embedding(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n * p.dim) { return; }
  let half = p.dim / 2u;
  let b = i / p.dim;
  let k = i % p.dim;
  let turn = levels[b * p.stride + p.offset] * turns[k % half];
  let angle = TAU * (turn - round(turn));
  if (k < half) {
    out[i] = sin(angle);
  } else {
    out[i] = cos(angle);
  }
}
