// Prelude for user-defined corruptions (src/diffusion/user-corruption.ts). The engine appends the user's
// functions to this file and compiles the result; the user writes only the BODIES of
//   fn corrupt(b: u32, c: u32, y: u32, x: u32, level: f32) -> f32          (C_t x at pixel (b, c, y, x))
//   fn corrupt_adjoint(b: u32, c: u32, y: u32, x: u32, level: f32) -> f32  (C_t^T x; or 'self-adjoint')
// and may call input(b, c, y, x) with signed coordinates (0 outside the image) and read the override
// constants CH, H, W (u32). level = levels[b, 1], the corruption's level at the sample's t.
// Layout: src, dst [B, CH, H, W] contiguous. Bindings: 0 params {n}, 1 levels (read, [B, 4]),
//   2 src (read), 3 dst (rw). Entry points apply, adjoint: one invocation per output element,
//   grid1d(n, WG).

override WG: u32 = 64;

override CH: u32;
override H: u32;
override W: u32;

#include grid
#include levels

struct Params { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> levels: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

// The input image value at (b, c, y, x); 0 outside [0, H) x [0, W) (so shifts and crops stay linear).
fn input(b: u32, c: u32, y: i32, x: i32) -> f32 {
  if (y < 0 || x < 0 || y >= i32(H) || x >= i32(W)) { return 0.0; }
  return src[((b * CH + c) * H + u32(y)) * W + u32(x)];
}

// dst[i] = corrupt(b, c, y, x, levels[b, 1])
@compute @workgroup_size(WG)
fn apply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let b = i / (CH * H * W);
  dst[i] = corrupt(b, (i / (H * W)) % CH, (i / W) % H, i % W, levels[level_index(b, LEVEL_C)]);
}

// dst[i] = corrupt_adjoint(b, c, y, x, levels[b, 1])
@compute @workgroup_size(WG)
fn adjoint(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let b = i / (CH * H * W);
  dst[i] = corrupt_adjoint(b, (i / (H * W)) % CH, (i / W) % H, i % W, levels[level_index(b, LEVEL_C)]);
}
