// Nearest-neighbour 2x upsampling, NCHW float32: x [n, c, h, w] -> y [n, c, 2h, 2w].
//   upsample2x:          y[p, oy, ox] = x[p, oy / 2, ox / 2]              (one invocation per y element)
//   upsample2x_backward: dx[p, iy, ix] (=|+=) sum of the 2x2 block dy[p, 2iy..2iy+1, 2ix..2ix+1]
//                        (one invocation per dx element; ACCUMULATE adds)
// p = n * c planes. Bindings: 0 params {planes, h, w}, 1 input (read), 2 output (rw).
// Flat index: flat_index (shaders/grid.wgsl).

override WG: u32 = 256;

#include grid

struct Params { planes: u32, h: u32, w: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// y = nearest 2x upsample of x.
@compute @workgroup_size(WG)
fn upsample2x(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let w2 = 2u * p.w;
  let plane = 4u * p.h * p.w;
  if (i >= p.planes * plane) { return; }
  let pl = i / plane;
  let r = i % plane;
  let oy = r / w2;
  let ox = r % w2;
  dst[i] = src[pl * p.h * p.w + (oy / 2u) * p.w + ox / 2u];
}

// dx = sum of each 2x2 block of dy.
@compute @workgroup_size(WG)
fn upsample2x_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.planes * p.h * p.w) { return; }
  let pl = i / (p.h * p.w);
  let r = i % (p.h * p.w);
  let iy = r / p.w;
  let ix = r % p.w;
  let w2 = 2u * p.w;
  let top = pl * 4u * p.h * p.w + 2u * iy * w2 + 2u * ix;
  let v = (src[top] + src[top + 1u]) + (src[top + w2] + src[top + w2 + 1u]);
#if ACCUMULATE
  dst[i] = dst[i] + v;
#else
  dst[i] = v;
#endif
}
