// Transforms of the convolution's Winograd variant ('winograd' in src/kernels/conv2d.ts) for 3x3
// stride-1 convolutions: F(2x2, 3x3) (Lavin & Gray 2016). Each 2x2 output tile is computed from a 4x4
// input tile with 16 products per channel pair instead of 36; the products of all tiles are 16
// batched matmuls (src/kernels/matmul.ts) M[q] = U[q] @ V[q], q = 4*row + col of the 4x4 domain:
//   weight_transform: U[q, oc, ic] = (G g G^T)[q], g = the 3x3 kernel from output channel oc to input ic
//   input_transform:  V[q, ic, t]  = (B^T d B)[q], d = the 4x4 input patch of tile t (zeros outside)
//   output_transform: out[n, oc, 2ty+i, 2tx+j] (+)= (A^T M[., oc, t] A)[i, j] + bias[oc]
//   G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// The same kernels serve the input gradient: it is the convolution of dy with the kernel flipped and
// its channel axes swapped (flag FLIP), padded by 2 - pad.
// The weight gradient runs the forward's algebra backwards: with dY the 2x2 gradient of an output
// tile, dL/dU = sum over tiles of (A dY A^T) (.) V, and dL/dg = G^T (dL/dU) G, so
//   grad_output_transform: D[q, oc, t] = (A dY_t A^T)[q]   (dy entries outside the image are 0)
//   (matmul)               dU[q] = D[q] @ V[q]^T           ([16, oc, ic], the sum over tiles is its K)
//   weight_grad_transform: dw[oc, ic] = G^T dU[., oc, ic] G
// Layouts: inp [n, ic, H, W], out [n, oc, HO, WO] NCHW float32; w [cout, cin, 3, 3] (PyTorch);
// tiles t = (n*TY + ty)*TX + tx with TY = ceil(HO/2), TX = ceil(WO/2); U [16, oc, ic], V [16, ic, T],
// M [16, oc, T]. Written without private arrays (SwiftShader keeps those in memory).
// Flags: one entry point per pipeline (WEIGHT, INPUT, OUTPUT, GRADOUT, WGRADT select its bindings);
// FLIP as above.
// Bindings: 0 params, then weight_transform: 1 w, 2 U | input_transform: 1 inp, 2 V |
//   output_transform: 1 M, 2 bias, 3 out | grad_output_transform: 1 dy, 2 D |
//   weight_grad_transform: 1 dU, 2 dw.
// Dispatches (grid1d, 2-D when large): weight_transform and weight_grad_transform over oc*ic,
//   input_transform over ic*T, output_transform and grad_output_transform over oc*T invocations.

override WG: u32 = 64;

#include grid

struct Params {
  n: u32, ic: u32, oc: u32, h: u32,
  w: u32, ho: u32, wo: u32, pad: i32,
  ty: u32, tx: u32, accumulate: u32, has_bias: u32,
}
@group(0) @binding(0) var<uniform> p: Params;

#if WEIGHT
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> U: array<f32>;

// G g G^T along one axis: 3 taps -> 4.
fn gRow(a: vec3f) -> vec4f { return vec4f(a.x, 0.5 * (a.x + a.y + a.z), 0.5 * (a.x - a.y + a.z), a.z); }

// Contract: U[q, oc, ic] for all 16 q of one (oc, ic).
@compute @workgroup_size(WG)
fn weight_transform(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let pairs = p.oc * p.ic;
  if (i >= pairs) { return; }
  let oc = i / p.ic;
  let ic = i - oc * p.ic;
#if FLIP
  // g[kh, kw] = w[ic, oc, 2-kh, 2-kw] (w is [cout = ic, cin = oc, 3, 3]).
  let b = (ic * p.oc + oc) * 9u;
  let g0 = vec3f(wt[b + 8u], wt[b + 7u], wt[b + 6u]);
  let g1 = vec3f(wt[b + 5u], wt[b + 4u], wt[b + 3u]);
  let g2 = vec3f(wt[b + 2u], wt[b + 1u], wt[b]);
#else
  let b = i * 9u;
  let g0 = vec3f(wt[b], wt[b + 1u], wt[b + 2u]);
  let g1 = vec3f(wt[b + 3u], wt[b + 4u], wt[b + 5u]);
  let g2 = vec3f(wt[b + 6u], wt[b + 7u], wt[b + 8u]);
#endif
  // Columns first (G g), then rows (. G^T).
  let c0 = g0;
  let c1 = 0.5 * (g0 + g1 + g2);
  let c2 = 0.5 * (g0 - g1 + g2);
  let c3 = g2;
  let r0 = gRow(c0);
  let r1 = gRow(c1);
  let r2 = gRow(c2);
  let r3 = gRow(c3);
  U[i] = r0.x; U[pairs + i] = r0.y; U[2u * pairs + i] = r0.z; U[3u * pairs + i] = r0.w;
  U[4u * pairs + i] = r1.x; U[5u * pairs + i] = r1.y; U[6u * pairs + i] = r1.z; U[7u * pairs + i] = r1.w;
  U[8u * pairs + i] = r2.x; U[9u * pairs + i] = r2.y; U[10u * pairs + i] = r2.z; U[11u * pairs + i] = r2.w;
  U[12u * pairs + i] = r3.x; U[13u * pairs + i] = r3.y; U[14u * pairs + i] = r3.z; U[15u * pairs + i] = r3.w;
}
#endif

#if INPUT
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> V: array<f32>;

// One row of the 4x4 patch: input row iy, columns ix..ix+3, zero outside the image.
fn patchRow(base: u32, iy: i32, ix: i32) -> vec4f {
  if (iy < 0 || iy >= i32(p.h)) { return vec4f(0.0); }
  let row = i32(base) + iy * i32(p.w);
  var v = vec4f(0.0);
  if (ix >= 0 && ix < i32(p.w)) { v.x = inp[u32(row + ix)]; }
  if (ix + 1 >= 0 && ix + 1 < i32(p.w)) { v.y = inp[u32(row + ix + 1)]; }
  if (ix + 2 >= 0 && ix + 2 < i32(p.w)) { v.z = inp[u32(row + ix + 2)]; }
  if (ix + 3 >= 0 && ix + 3 < i32(p.w)) { v.w = inp[u32(row + ix + 3)]; }
  return v;
}

// B^T d along a row: 4 -> 4.
fn bRow(a: vec4f) -> vec4f { return vec4f(a.x - a.z, a.y + a.z, a.z - a.y, a.y - a.w); }

// Contract: V[q, ic, t] for all 16 q of one (ic, t); lanes run along t (contiguous stores).
@compute @workgroup_size(WG)
fn input_transform(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let tpi = p.ty * p.tx;
  let T = p.n * tpi;
  if (i >= p.ic * T) { return; }
  let ic = i / T;
  let t = i - ic * T;
  let ni = t / tpi;
  let r = t - ni * tpi;
  let tyi = r / p.tx;
  let txi = r - tyi * p.tx;
  let base = (ni * p.ic + ic) * p.h * p.w;
  let iy = i32(2u * tyi) - p.pad;
  let ix = i32(2u * txi) - p.pad;
  let d0 = patchRow(base, iy, ix);
  let d1 = patchRow(base, iy + 1, ix);
  let d2 = patchRow(base, iy + 2, ix);
  let d3 = patchRow(base, iy + 3, ix);
  // Rows (B^T d), then columns (. B).
  let r0 = bRow(d0 - d2);
  let r1 = bRow(d1 + d2);
  let r2 = bRow(d2 - d1);
  let r3 = bRow(d1 - d3);
  let s = p.ic * T;
  let o = i;
  V[o] = r0.x; V[s + o] = r0.y; V[2u * s + o] = r0.z; V[3u * s + o] = r0.w;
  V[4u * s + o] = r1.x; V[5u * s + o] = r1.y; V[6u * s + o] = r1.z; V[7u * s + o] = r1.w;
  V[8u * s + o] = r2.x; V[9u * s + o] = r2.y; V[10u * s + o] = r2.z; V[11u * s + o] = r2.w;
  V[12u * s + o] = r3.x; V[13u * s + o] = r3.y; V[14u * s + o] = r3.z; V[15u * s + o] = r3.w;
}
#endif

#if OUTPUT
@group(0) @binding(1) var<storage, read> M: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// A^T m along a row: 4 -> 2.
fn aRow(a: vec4f) -> vec2f { return vec2f(a.x + a.y + a.z, a.y - a.z - a.w); }

fn store(i: u32, v: f32) {
  if (p.accumulate != 0u) { out[i] = out[i] + v; } else { out[i] = v; }
}

// Contract: the 2x2 outputs of tile t in channel oc (those inside the image).
@compute @workgroup_size(WG)
fn output_transform(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let tpi = p.ty * p.tx;
  let T = p.n * tpi;
  if (i >= p.oc * T) { return; }
  let oc = i / T;
  let t = i - oc * T;
  let s = p.oc * T;
  let m0 = vec4f(M[i], M[s + i], M[2u * s + i], M[3u * s + i]);
  let m1 = vec4f(M[4u * s + i], M[5u * s + i], M[6u * s + i], M[7u * s + i]);
  let m2 = vec4f(M[8u * s + i], M[9u * s + i], M[10u * s + i], M[11u * s + i]);
  let m3 = vec4f(M[12u * s + i], M[13u * s + i], M[14u * s + i], M[15u * s + i]);
  // Rows (A^T m), then columns (. A).
  let b = select(0.0, bias[min(oc, arrayLength(&bias) - 1u)], p.has_bias != 0u);
  let y0 = aRow(m0 + m1 + m2) + b;
  let y1 = aRow(m1 - m2 - m3) + b;
  let ni = t / tpi;
  let r = t - ni * tpi;
  let tyi = r / p.tx;
  let txi = r - tyi * p.tx;
  let oy = 2u * tyi;
  let ox = 2u * txi;
  let o = ((ni * p.oc + oc) * p.ho + oy) * p.wo + ox;
  let right = ox + 1u < p.wo;
  store(o, y0.x);
  if (right) { store(o + 1u, y0.y); }
  if (oy + 1u < p.ho) {
    store(o + p.wo, y1.x);
    if (right) { store(o + p.wo + 1u, y1.y); }
  }
}
#endif

#if GRADOUT
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> D: array<f32>;

// A dY along one axis: 2 -> 4.
fn aColT(a: vec2f) -> vec4f { return vec4f(a.x, a.x + a.y, a.x - a.y, -a.y); }

// Contract: D[q, oc, t] for all 16 q of one (oc, t): tile t's 2x2 of dy[n, oc] spread to 4x4.
@compute @workgroup_size(WG)
fn grad_output_transform(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let tpi = p.ty * p.tx;
  let T = p.n * tpi;
  if (i >= p.oc * T) { return; }
  let oc = i / T;
  let t = i - oc * T;
  let ni = t / tpi;
  let r = t - ni * tpi;
  let tyi = r / p.tx;
  let txi = r - tyi * p.tx;
  let oy = 2u * tyi;
  let ox = 2u * txi;
  let o = ((ni * p.oc + oc) * p.ho + oy) * p.wo + ox;
  let right = ox + 1u < p.wo;
  let down = oy + 1u < p.ho;
  var d0 = vec2f(dy[o], 0.0);
  if (right) { d0.y = dy[o + 1u]; }
  var d1 = vec2f(0.0);
  if (down) {
    d1.x = dy[o + p.wo];
    if (right) { d1.y = dy[o + p.wo + 1u]; }
  }
  // Rows (A dY), then columns (. A^T).
  let r0 = aColT(d0);
  let r1 = aColT(d0 + d1);
  let r2 = aColT(d0 - d1);
  let r3 = aColT(-d1);
  let s = p.oc * T;
  D[i] = r0.x; D[s + i] = r0.y; D[2u * s + i] = r0.z; D[3u * s + i] = r0.w;
  D[4u * s + i] = r1.x; D[5u * s + i] = r1.y; D[6u * s + i] = r1.z; D[7u * s + i] = r1.w;
  D[8u * s + i] = r2.x; D[9u * s + i] = r2.y; D[10u * s + i] = r2.z; D[11u * s + i] = r2.w;
  D[12u * s + i] = r3.x; D[13u * s + i] = r3.y; D[14u * s + i] = r3.z; D[15u * s + i] = r3.w;
}
#endif

#if WGRADT
@group(0) @binding(1) var<storage, read> dU: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;

// G^T u along one axis: 4 -> 3.
fn gtRow(a: vec4f) -> vec3f { return vec3f(a.x + 0.5 * (a.y + a.z), 0.5 * (a.y - a.z), 0.5 * (a.y + a.z) + a.w); }

// Contract: dw[oc, ic, 0..2, 0..2] = G^T dU[., oc, ic] G (w is [cout = oc, cin = ic, 3, 3]).
@compute @workgroup_size(WG)
fn weight_grad_transform(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let pairs = p.oc * p.ic;
  if (i >= pairs) { return; }
  let u0 = vec4f(dU[i], dU[pairs + i], dU[2u * pairs + i], dU[3u * pairs + i]);
  let u1 = vec4f(dU[4u * pairs + i], dU[5u * pairs + i], dU[6u * pairs + i], dU[7u * pairs + i]);
  let u2 = vec4f(dU[8u * pairs + i], dU[9u * pairs + i], dU[10u * pairs + i], dU[11u * pairs + i]);
  let u3 = vec4f(dU[12u * pairs + i], dU[13u * pairs + i], dU[14u * pairs + i], dU[15u * pairs + i]);
  // Rows (G^T u), then columns (. G).
  let k0 = gtRow(u0 + 0.5 * (u1 + u2));
  let k1 = gtRow(0.5 * (u1 - u2));
  let k2 = gtRow(0.5 * (u1 + u2) + u3);
  let b = i * 9u;
  dw[b] = k0.x; dw[b + 1u] = k0.y; dw[b + 2u] = k0.z;
  dw[b + 3u] = k1.x; dw[b + 4u] = k1.y; dw[b + 5u] = k1.z;
  dw[b + 6u] = k2.x; dw[b + 7u] = k2.y; dw[b + 8u] = k2.z;
}
#endif
