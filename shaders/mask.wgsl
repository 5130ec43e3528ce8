// Soft masking C_t = diag(m_t) (SPEC.md section 1): out = m(u(y, x), c_b)^power * x, per pixel, every channel.
//   u(y, x) in [0, 1]: the order in which pixels get masked, by `kind`:
//     0 radial (center-out): distance from the image center / distance of a corner
//     1 left-to-right:       (x + 0.5) / W
//     2 raster:              (y * W + x + 0.5) / (H * W)
//   m(u, c) = clamp(1 + (u - c (1 + width)) / width, 0, 1): c = 0 keeps every pixel (m = 1), c = 1 masks
//   every pixel (m = 0), and in between a ramp of `width` (in u units) moves across the image, so no
//   pixel jumps from 1 to 0 (a hard mask gives no training signal at the masked pixels).
//   c_b = levels[b, 1]. power 1: C (= C^T); power 2: C^T C.
// Layout: x, out [B, C, H, W] contiguous. Bindings: 0 params, 1 levels (read, [B, 4]), 2 x (read), 3 out (rw).
// Dispatch: grid1d(B * C * H * W, WG).

override WG: u32 = 256;

#include grid
#include levels

struct Params { n: u32, h: u32, w: u32, chw: u32, kind: u32, width: f32, power: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> levels: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

fn order(y: u32, x: u32) -> f32 {
  let fy = f32(y) + 0.5;
  let fx = f32(x) + 0.5;
  if (p.kind == 0u) {
    let cy = 0.5 * f32(p.h);
    let cx = 0.5 * f32(p.w);
    return sqrt((fy - cy) * (fy - cy) + (fx - cx) * (fx - cx)) / sqrt(cy * cy + cx * cx);
  }
  if (p.kind == 1u) { return fx / f32(p.w); }
  return (f32(y * p.w + x) + 0.5) / f32(p.h * p.w);
}

// out[i] = m(u(y, x), levels[b, 1])^power * x[i]
@compute @workgroup_size(WG)
fn mask_apply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let c = levels[level_index(i / p.chw, LEVEL_C)];
  let m = clamp(1.0 + (order((i / p.w) % p.h, i % p.w) - c * (1.0 + p.width)) / p.width, 0.0, 1.0);
  var f = m;
  if (p.power == 2.0) { f = m * m; }
  dst[i] = f * src[i];
}
