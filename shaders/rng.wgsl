// Random normal tensors: out[i] = mean + std * z_i, z_i ~ N(0, 1) from Philox-4x32-10 keyed by
// (seed, step) held in a 16-byte uniform the host rewrites with writeBuffer (no pipeline rebuild per
// step), counter (i / 4, stream). Flag BITS: the raw 32-bit words instead (known-answer tests), binding 2 is then u32.
// Bindings: 0 params {n, stream, mean, scale}, 1 rng state {seed, step, _, _} (uniform), 2 out (rw).
// Entry points: random_normal (BITS off), random_bits (BITS on).
// Dispatch: grid1d(ceil(n / 4), WG); one invocation writes the 4 elements of one quad.

#include philox

override WG: u32 = 64;

#include grid

struct Params { n: u32, stream: u32, mean: f32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> rng: RngState;
#if BITS
@group(0) @binding(2) var<storage, read_write> words: array<u32>;
#else
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
#endif

#if !BITS
// out[4q + j] = mean + std * normal4(seed, step, stream, q)[j] for every element < n.
@compute @workgroup_size(WG)
fn random_normal(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = flat_index(gid, nwg);
  let base = 4u * q;
  if (base >= p.n) { return; }
  let z = normal4(rng.seed, rng.step, p.stream, q);
  for (var j = 0u; j < 4u; j++) {
    if (base + j < p.n) { out[base + j] = p.mean + p.scale * z[j]; }
  }
}
#else
// words[4q + j] = philox4x32_10((q, stream, 0, 0), (seed, step))[j] for every element < n.
@compute @workgroup_size(WG)
fn random_bits(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = flat_index(gid, nwg);
  let base = 4u * q;
  if (base >= p.n) { return; }
  let w = philox4x32_10(vec4u(q, p.stream, 0u, 0u), vec2u(rng.seed, rng.step));
  for (var j = 0u; j < 4u; j++) {
    if (base + j < p.n) { words[base + j] = w[j]; }
  }
}
#endif
