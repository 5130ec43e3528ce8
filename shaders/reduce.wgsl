// Reductions to a scalar and per row: sum, sum of squares, mean (a sum scaled by 1/count).
// reduce_partial: out[g] = scale * sum_{i in chunk g} f(x[i]), chunk g = WG*ITEMS consecutive
//   elements; f(v) = v*v with SQUARE, else v. The host chains passes (partials of partials, SQUARE off)
//   until one value is left; the last pass applies the scale (1/n for a mean).
//   With VEC4, x is read as vec4 (n counts vec4s; the host uses it when the element count is a
//   multiple of 4): four independent running sums per invocation, a quarter of the loads.
// reduce_rows: out[r] = scale * sum_{c < cols} f(x[r*cols + c]) for x [rows, cols] row-major.
// Accumulation: each invocation adds its ITEMS (or cols/WG) elements in order, then the workgroup adds
//   its WG values as a balanced tree in workgroup memory: an error of at most about
//   (ITEMS - 1 + log2 WG) roundings per pass, instead of n for a serial sum.
// Bindings: 0 params {n, cols, scale}, 1 x (read), 2 out (rw).
// Dispatch: reduce_partial grid1d(ceil(n / (WG*ITEMS)) workgroups); reduce_rows one workgroup per row,
//   folded into x and y (workgroup index = workgroup_index(wid, nwg)).

override WG: u32 = 256; // a power of two

override ITEMS: u32 = 16;

#include grid
#include workgroup_reduce

struct Params { n: u32, cols: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
#if VEC4
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
#endif
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn term(v: f32) -> f32 {
#if SQUARE
  return v * v;
#else
  return v;
#endif
}

fn term4(v: vec4f) -> vec4f {
#if SQUARE
  return v * v;
#else
  return v;
#endif
}

// One partial sum per workgroup over its chunk of WG*ITEMS elements (coalesced: stride WG).
@compute @workgroup_size(WG)
fn reduce_partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let g = workgroup_index(wid, nwg);
  let base = g * WG * ITEMS;
#if VEC4
  var acc4 = vec4f(0.0);
  for (var t = 0u; t < ITEMS; t++) {
    let i = base + t * WG + li;
    if (i < p.n) { acc4 += term4(x[i]); }
  }
  let acc = (acc4.x + acc4.y) + (acc4.z + acc4.w);
#else
  var acc = 0.0;
  for (var t = 0u; t < ITEMS; t++) {
    let i = base + t * WG + li;
    if (i < p.n) { acc += term(x[i]); }
  }
#endif
  let total = workgroup_sum(li, acc);
  if (li == 0u && base < p.n) { out[g] = total * p.scale; }
}

#if !VEC4
// One row per workgroup.
@compute @workgroup_size(WG)
fn reduce_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = workgroup_index(wid, nwg);
  if (row >= p.n) { return; }
  let base = row * p.cols;
  var acc = 0.0;
  for (var c = li; c < p.cols; c += WG) { acc += term(x[base + c]); }
  let total = workgroup_sum(li, acc);
  if (li == 0u) { out[row] = total * p.scale; }
}
#endif
