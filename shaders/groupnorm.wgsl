// GroupNorm with learned per-channel scale/shift and an optional fused SiLU, forward and backward.
//   xhat = (x - mean_g) * rstd_g,  z = gamma[c] * xhat + beta[c],  y = SILU ? silu(z) : z
// over groups of cpg = c / groups consecutive channels; mean_g and the biased variance are taken over
// the M = cpg * hw elements of (sample, group), which are contiguous in NCHW; rstd = 1 / sqrt(var + eps).
// Backward (dz = dy * silu'(z), or dy; z is recomputed from x and the saved stats):
//   a[n,c] = sum_hw dz,  b[n,c] = sum_hw dz * xhat                         (gn_channel_sums_*)
//   dbeta[c] = sum_n a,  dgamma[c] = sum_n b,
//   ga[n,g] = sum_{c in g} gamma a,  gb[n,g] = sum_{c in g} gamma b        (gn_reduce)
//   dx = rstd * (gamma dz - ga / M - xhat gb / M)   (+ dx when ACCUMULATE)  (gn_dx)
// Layouts: x, y, dy, dx [n, c, hw]; gamma, beta, dgamma, dbeta [c]; stats [n, groups, 2] = (mean, rstd);
// coef [n, c, 2] = per-plane (scale, shift) with z = scale x + shift; sums [n, c, 2] = (a, b);
// planes [n, c, 2] vec4 = (mean, rstd, gamma, beta), (-rstd gb / M, -rstd ga / M, 0, 0).
// Per-element kernels (gn_normalize, gn_dx) read only per-plane coefficients and run on a grid whose
// y (and z past 65535) index is the plane: integer division per element is scalarised, hence slow,
// on CPU adapters, and the plane index avoids it.
// Reductions come in two variants: *_serial, one invocation per row looping over it with no barrier
// (software adapters, where barriers are expensive), and *_tree, one workgroup of WG (a power of two)
// per row with a strided loop and a shared-memory tree (GPUs). Statistics use two passes (mean, then
// squared deviations) for accuracy with a large mean.
// Flags: SILU (fused activation), ACCUMULATE (gn_dx adds into dx).
// Entry points and bindings (binding i = i-th resource):
//   gn_stats_serial / gn_stats_tree:   0 params, 1 x, 2 gamma, 3 beta, 4 stats (rw), 5 coef (rw)
//   gn_normalize:                      0 params, 1 x, 2 coef, 3 y (rw)
//   gn_channel_sums_serial / _tree:    0 params, 1 x, 2 gamma, 3 beta, 4 stats, 5 dy, 6 sums (rw)
//   gn_reduce:                         0 params, 1 gamma, 2 beta, 3 stats, 4 sums, 5 dgamma (rw), 6 dbeta (rw), 7 planes (rw)
//   gn_dx:                             0 params, 1 x, 2 dy, 3 planes, 4 dx (rw)
// Rows: *_serial and gn_reduce: row = flat_index(gid, nwg); *_tree: row = workgroup_index(wid, nwg).

override WG: u32 = 256;

#include grid
#include workgroup_reduce

struct Params { n: u32, c: u32, hw: u32, groups: u32, eps: f32 }

@group(0) @binding(0) var<uniform> p: Params;

// Bindings differ per entry point; each entry point statically uses only its own declarations.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> coef_out: array<f32>;
// gn_normalize
@group(0) @binding(2) var<storage, read> coef: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// gn_channel_sums_*
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> sums: array<f32>;
// gn_reduce
@group(0) @binding(1) var<storage, read> r_gamma: array<f32>;
@group(0) @binding(2) var<storage, read> r_beta: array<f32>;
@group(0) @binding(3) var<storage, read> r_stats: array<f32>;
@group(0) @binding(4) var<storage, read> r_sums: array<f32>;
@group(0) @binding(5) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(7) var<storage, read_write> planes_out: array<vec4f>;
// gn_dx
@group(0) @binding(2) var<storage, read> d_dy: array<f32>;
@group(0) @binding(3) var<storage, read> planes: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

const CHUNK: u32 = 64u; // serial sums add chunks of 64 terms into the total: error grows with ~len/64

fn sigmoid(v: f32) -> f32 { return 1.0 / (1.0 + exp(-v)); }

fn cpg() -> u32 { return p.c / p.groups; }

// The (sample, group) row of plane (sample, channel).
fn group_row(plane: u32) -> u32 { return (plane / p.c) * p.groups + (plane % p.c) / cpg(); }

// Writes row's stats and its channels' (scale, shift); lanes 0..count-1 share the channels.
fn write_stats(row: u32, mean: f32, rstd: f32, first: u32, count: u32) {
  if (first == 0u) {
    stats_out[2u * row] = mean;
    stats_out[2u * row + 1u] = rstd;
  }
  let g = row % p.groups;
  let plane0 = (row / p.groups) * p.c + g * cpg();
  for (var j = first; j < cpg(); j += count) {
    let scale = gamma[g * cpg() + j] * rstd;
    coef_out[2u * (plane0 + j)] = scale;
    coef_out[2u * (plane0 + j) + 1u] = beta[g * cpg() + j] - mean * scale;
  }
}

// stats[row] = (mean, rstd) of x over one (sample, group), and coef of its planes: one invocation per row.
@compute @workgroup_size(WG)
fn gn_stats_serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_index(gid, nwg);
  if (row >= p.n * p.groups) { return; }
  let len = cpg() * p.hw;
  let base = row * len;
  var total = 0.0;
  for (var i = 0u; i < len; i += CHUNK) {
    var part = 0.0;
    for (var j = i; j < min(i + CHUNK, len); j++) { part += x[base + j]; }
    total += part;
  }
  let mean = total / f32(len);
  var sq = 0.0;
  for (var i = 0u; i < len; i += CHUNK) {
    var part = 0.0;
    for (var j = i; j < min(i + CHUNK, len); j++) {
      let d = x[base + j] - mean;
      part += d * d;
    }
    sq += part;
  }
  write_stats(row, mean, inverseSqrt(sq / f32(len) + p.eps), 0u, 1u);
}

// stats[row] = (mean, rstd) of x over one (sample, group), and coef of its planes: one workgroup per row.
@compute @workgroup_size(WG)
fn gn_stats_tree(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32, @builtin(num_workgroups) nwg: vec3u) {
  let row = workgroup_index(wid, nwg); // uniform across the workgroup, so the early return is uniform
  if (row >= p.n * p.groups) { return; }
  let len = cpg() * p.hw;
  let base = row * len;
  var s = 0.0;
  for (var j = lane; j < len; j += WG) { s += x[base + j]; }
  let mean = workgroup_sum(lane, s) / f32(len);
  var q = 0.0;
  for (var j = lane; j < len; j += WG) {
    let d = x[base + j] - mean;
    q += d * d;
  }
  let sq = workgroup_sum(lane, q);
  write_stats(row, mean, inverseSqrt(sq / f32(len) + p.eps), lane, WG);
}

// y[i] = [silu](scale x + shift) with the plane's coefficients: grid (hw / WG, planes).
@compute @workgroup_size(WG)
fn gn_normalize(@builtin(global_invocation_id) gid: vec3u) {
  let plane = gid.y + gid.z * 65535u;
  if (plane >= p.n * p.c || gid.x >= p.hw) { return; }
  let i = plane * p.hw + gid.x;
  let z = x[i] * coef[2u * plane] + coef[2u * plane + 1u];
#if SILU
  y[i] = z * sigmoid(z);
#else
  y[i] = z;
#endif
}

// dL/dz for pre-activation z and upstream gradient g.
fn dz_of(z: f32, g: f32) -> f32 {
#if SILU
  let s = sigmoid(z);
  return g * s * (1.0 + z * (1.0 - s));
#else
  return g;
#endif
}

// The (a, b) contributions of element j of plane `plane` (base = plane * hw).
fn channel_terms(base: u32, j: u32, mean: f32, rstd: f32, g: f32, b: f32) -> vec2f {
  let xhat = (x[base + j] - mean) * rstd;
  let d = dz_of(g * xhat + b, dy[base + j]);
  return vec2f(d, d * xhat);
}

// sums[n,c] = (sum_hw dz, sum_hw dz * xhat): one invocation per (n, c) plane, no barriers.
@compute @workgroup_size(WG)
fn gn_channel_sums_serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let plane = flat_index(gid, nwg);
  if (plane >= p.n * p.c) { return; }
  let base = plane * p.hw;
  let row = group_row(plane);
  let mean = stats[2u * row];
  let rstd = stats[2u * row + 1u];
  let g = gamma[plane % p.c];
  let b = beta[plane % p.c];
  var ta = 0.0;
  var tb = 0.0;
  for (var i = 0u; i < p.hw; i += CHUNK) {
    var pa = 0.0;
    var pb = 0.0;
    for (var j = i; j < min(i + CHUNK, p.hw); j++) {
      let t = channel_terms(base, j, mean, rstd, g, b);
      pa += t.x;
      pb += t.y;
    }
    ta += pa;
    tb += pb;
  }
  sums[2u * plane] = ta;
  sums[2u * plane + 1u] = tb;
}

// sums[n,c] = (sum_hw dz, sum_hw dz * xhat): one workgroup per (n, c) plane.
@compute @workgroup_size(WG)
fn gn_channel_sums_tree(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32, @builtin(num_workgroups) nwg: vec3u) {
  let plane = workgroup_index(wid, nwg);
  if (plane >= p.n * p.c) { return; }
  let base = plane * p.hw;
  let row = group_row(plane);
  let mean = stats[2u * row];
  let rstd = stats[2u * row + 1u];
  let g = gamma[plane % p.c];
  let b = beta[plane % p.c];
  var ta = 0.0;
  var tb = 0.0;
  for (var j = lane; j < p.hw; j += WG) {
    let t = channel_terms(base, j, mean, rstd, g, b);
    ta += t.x;
    tb += t.y;
  }
  let t = workgroup_sum2(lane, ta, tb);
  if (lane == 0u) {
    sums[2u * plane] = t.x;
    sums[2u * plane + 1u] = t.y;
  }
}

// Invocation k < c: dbeta[k], dgamma[k] (sums over the batch); k < n * c: the coefficients gn_dx
// needs for plane k (its group's ga, gb folded in). No barriers.
@compute @workgroup_size(WG)
fn gn_reduce(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k < p.c) {
    var a = 0.0;
    var b = 0.0;
    for (var s = 0u; s < p.n; s++) {
      a += r_sums[2u * (s * p.c + k)];
      b += r_sums[2u * (s * p.c + k) + 1u];
    }
    dbeta[k] = a;
    dgamma[k] = b;
  }
  if (k < p.n * p.c) {
    let ch = k % p.c;
    let c0 = (ch / cpg()) * cpg(); // first channel of the group
    let first = k - ch + c0;       // its plane
    var ga = 0.0;
    var gb = 0.0;
    for (var j = 0u; j < cpg(); j++) {
      let g = r_gamma[c0 + j];
      ga += g * r_sums[2u * (first + j)];
      gb += g * r_sums[2u * (first + j) + 1u];
    }
    let row = group_row(k);
    let rstd = r_stats[2u * row + 1u];
    let inv_m = 1.0 / f32(cpg() * p.hw);
    planes_out[2u * k] = vec4f(r_stats[2u * row], rstd, r_gamma[ch], r_beta[ch]);
    planes_out[2u * k + 1u] = vec4f(-rstd * gb * inv_m, -rstd * ga * inv_m, 0.0, 0.0);
  }
}

// dx[i] (=|+=) rstd gamma dz - rstd gb / M xhat - rstd ga / M: grid (hw / WG, planes).
@compute @workgroup_size(WG)
fn gn_dx(@builtin(global_invocation_id) gid: vec3u) {
  let plane = gid.y + gid.z * 65535u;
  if (plane >= p.n * p.c || gid.x >= p.hw) { return; }
  let i = plane * p.hw + gid.x;
  let q = planes[2u * plane];
  let r = planes[2u * plane + 1u];
  let xhat = (x[i] - q.x) * q.y;
  let v = q.y * q.z * dz_of(q.z * xhat + q.w, d_dy[i]) + r.x * xhat + r.y;
#if ACCUMULATE
  dx[i] = dx[i] + v;
#else
  dx[i] = v;
#endif
}
