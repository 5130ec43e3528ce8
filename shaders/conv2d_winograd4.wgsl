// Transforms of the convolution's 'winograd4' algorithm (src/kernels/conv2d/winograd4.ts) for 3x3
// stride-1 convolutions: F(4x4, 3x3) (Lavin & Gray 2016). Each 4x4 output tile comes from a 6x6 input
// tile with 36 products per channel pair instead of 144 (F(2x2, 3x3), shaders/conv2d_winograd.wgsl:
// 16 per 2x2, i.e. 64 per 16 outputs), so the batched matmuls shrink 1.78x and the transformed tiles
// hold 2.25 values per output pixel instead of 4. The products of all tiles are 36 batched matmuls
// (src/kernels/matmul.ts) M[q] = U[q] @ V[q], q = 6*row + col of the 6x6 domain:
//   weight_transform: U[q, oc, ic] = (G g G^T)[q], g = the 3x3 kernel from output channel oc to input ic
//   input_transform:  V[q, ic, t]  = (B^T d B)[q], d = the 6x6 input patch of tile t (zeros outside)
//   output_transform: out[n, oc, 4ty+i, 4tx+j] (+)= (A^T M[., oc, t] A)[i, j] + bias[oc]
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
//   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
// The input gradient is the convolution of dy with the kernel flipped and its channel axes swapped
// (flag FLIP), padded by 2 - pad. The weight gradient runs the algebra backwards:
//   grad_output_transform: D[q, oc, t] = (A dY_t A^T)[q]   (dy entries outside the image are 0)
//   (matmul)               dU[q] = D[q] @ V[q]^T           ([36, oc, ic], the sum over tiles is its K)
//   weight_grad_transform: dw[oc, ic] = G^T dU[., oc, ic] G
// The interpolation points 0, +-1, +-2 make the transforms' coefficients reach 8 and 1/24: float32
// rounding grows a few times over F(2x2, 3x3)'s (tests/kernels/conv2d.test.ts bounds it).
// Layouts: inp [n, ic, H, W], out [n, oc, HO, WO] NCHW float32; w [cout, cin, 3, 3] (PyTorch);
// tiles t = (n*TY + ty)*TX + tx with TY = ceil(HO/4), TX = ceil(WO/4); U [36, oc, ic], V [36, ic, T],
// M [36, oc, T]. A 6-vector is held as six vec4 (S6) whose lanes carry four independent vectors, so
// every 1-D transform is a few vec4 multiply-adds; a 2-D transform applies one along rows (lanes =
// columns), transposes, and applies the other along columns (lanes = rows). No private arrays
// (SwiftShader keeps those in memory).
// Entry points (one per pipeline; its flag selects its bindings, and WEIGHT, INPUT, GRADOUT the
// transforms it calls): the two transforms before a product share one dispatch, so a pass is three
// dispatches (transforms, matmul, transform back).
//   prepare       (PREPARE + WEIGHT + INPUT):   1 w, 2 U, 3 inp, 4 V     over ic*T + oc*ic invocations
//   prepare_wgrad (PREPARE_WGRAD + INPUT + GRADOUT): 1 inp, 2 V, 3 dy, 4 D   over ic*T + oc*T
//     both with [5 coef [n, ic] vec2 (NORM): the GroupNorm prologue, see there; NORM_SILU adds SiLU]
//   output_transform (OUTPUT): 1 M, 2 bias, 3 out, [4 chanBias [n, oc] (CHANNEL_BIAS), 5 residual
//     [n, oc, HO, WO] (RESIDUAL): the forward's epilogue]                  over oc*T
//   weight_grad_transform (WGRADT): 1 dU, 2 dw                             over oc*ic
// Flags besides: FLIP as above. Binding 0 is always the params; grids are grid1d (2-D when large).

override WG: u32 = 64;

struct Params {
  n: u32, ic: u32, oc: u32, h: u32,
  w: u32, ho: u32, wo: u32, pad: i32,
  ty: u32, tx: u32, accumulate: u32, has_bias: u32,
}
@group(0) @binding(0) var<uniform> p: Params;

#include grid

struct S3 { v0: vec4f, v1: vec4f, v2: vec4f }
struct S4 { v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f }
struct S6 { v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f, v4: vec4f, v5: vec4f }

// Tile t's image, tile row and tile column.
struct Tile { n: u32, y: u32, x: u32 }
fn tileOf(t: u32) -> Tile {
  let tpi = p.ty * p.tx;
  let ni = t / tpi;
  let r = t - ni * tpi;
  let y = r / p.tx;
  return Tile(ni, y, r - y * p.tx);
}

// Bindings by pipeline: 'prepare' (PREPARE) transforms the weights and the input in one dispatch,
// 'prepare_wgrad' (PREPARE_WGRAD) the input and the output gradient; the others run alone.
#if PREPARE
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> U: array<f32>;
@group(0) @binding(3) var<storage, read> inp: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;
#endif
#if PREPARE_WGRAD
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> V: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> D: array<f32>;
#endif
#if NORM
// Prologue (forward and weight gradient): the input is a GroupNorm's input x, and the convolution
// reads [silu](scale x + shift) with the plane's (scale, shift) = coef[n, ic] (shaders/groupnorm.wgsl
// writes them), so the normalised activation is never stored. Zero padding stays zero.
@group(0) @binding(5) var<storage, read> coef: array<vec2f>;
#endif
#if OUTPUT
@group(0) @binding(1) var<storage, read> M: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// Epilogue (forward only): a per-(sample, channel) bias [n, oc] and a residual [n, oc, HO, WO] added
// to every output (the residual block's time embedding and skip connection).
@group(0) @binding(4) var<storage, read> chanBias: array<f32>;
@group(0) @binding(5) var<storage, read> residual: array<f32>;
#endif
#if WGRADT
@group(0) @binding(1) var<storage, read> dU: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
#endif

#if WEIGHT
// U[6k + c] for the six rows k of column c: v holds rows 0-3, h rows 4-5 (in .xy); stride s.
fn putU(c: u32, s: u32, i: u32, v: vec4f, h: vec4f) {
  U[c * s + i] = v.x;
  U[(6u + c) * s + i] = v.y;
  U[(12u + c) * s + i] = v.z;
  U[(18u + c) * s + i] = v.w;
  U[(24u + c) * s + i] = h.x;
  U[(30u + c) * s + i] = h.y;
}

// G x: 3 -> 6, on four lanes.
fn gT(x: S3) -> S6 {
  let sum = x.v0 + x.v2;
  return S6(0.25 * x.v0, -(sum + x.v1) / 6.0, (x.v1 - sum) / 6.0, x.v0 / 24.0 + x.v1 / 12.0 + x.v2 / 6.0, x.v0 / 24.0 - x.v1 / 12.0 + x.v2 / 6.0, x.v2);
}

// Contract: U[q, oc, ic] for all 36 q of the i-th (oc, ic).
fn weightTransform(i: u32) {
  let pairs = p.oc * p.ic;
  if (i >= pairs) { return; }
  let oc = i / p.ic;
  let ic = i - oc * p.ic;
#if FLIP
  // g[kh, kw] = w[ic, oc, 2-kh, 2-kw] (w is [cout = ic, cin = oc, 3, 3]).
  let b = (ic * p.oc + oc) * 9u;
  let g = S3(vec4f(wt[b + 8u], wt[b + 7u], wt[b + 6u], 0.0), vec4f(wt[b + 5u], wt[b + 4u], wt[b + 3u], 0.0), vec4f(wt[b + 2u], wt[b + 1u], wt[b], 0.0));
#else
  let b = i * 9u;
  let g = S3(vec4f(wt[b], wt[b + 1u], wt[b + 2u], 0.0), vec4f(wt[b + 3u], wt[b + 4u], wt[b + 5u], 0.0), vec4f(wt[b + 6u], wt[b + 7u], wt[b + 8u], 0.0));
#endif
  // Rows of G g (lanes = kernel columns), then transposed (lanes = rows 0-3 and 4-5) and . G^T.
  let r = gT(g);
  let lo = gT(S3(vec4f(r.v0.x, r.v1.x, r.v2.x, r.v3.x), vec4f(r.v0.y, r.v1.y, r.v2.y, r.v3.y), vec4f(r.v0.z, r.v1.z, r.v2.z, r.v3.z)));
  let hi = gT(S3(vec4f(r.v4.x, r.v5.x, 0.0, 0.0), vec4f(r.v4.y, r.v5.y, 0.0, 0.0), vec4f(r.v4.z, r.v5.z, 0.0, 0.0)));
  // U[6k + c] = (G g G^T)[k][c]: lo.v<c>[k] for rows k < 4, hi.v<c>[k - 4] for rows 4, 5.
  putU(0u, pairs, i, lo.v0, hi.v0);
  putU(1u, pairs, i, lo.v1, hi.v1);
  putU(2u, pairs, i, lo.v2, hi.v2);
  putU(3u, pairs, i, lo.v3, hi.v3);
  putU(4u, pairs, i, lo.v4, hi.v4);
  putU(5u, pairs, i, lo.v5, hi.v5);
}
#endif

#if INPUT

// The plane's GroupNorm coefficients while one input transform runs (NORM).
var<private> planeCoef: vec2f;

// An input value as the convolution sees it: x, or with NORM the normalised (and with NORM_SILU
// activated) value.
fn act(v: f32) -> f32 {
#if NORM
  let z = fma(v, planeCoef.x, planeCoef.y);
#if NORM_SILU
  return z / (1.0 + exp(-z));
#else
  return z;
#endif
#else
  return v;
#endif
}
// V[6k + c] for the six rows k of column c: v holds rows 0-3, h rows 4-5 (in .xy); stride s.
fn putV(c: u32, s: u32, i: u32, v: vec4f, h: vec4f) {
  V[c * s + i] = v.x;
  V[(6u + c) * s + i] = v.y;
  V[(12u + c) * s + i] = v.z;
  V[(18u + c) * s + i] = v.w;
  V[(24u + c) * s + i] = h.x;
  V[(30u + c) * s + i] = h.y;
}

fn at(row: i32, ix: i32) -> f32 {
  if (ix < 0 || ix >= i32(p.w)) { return 0.0; }
  return act(inp[u32(row + ix)]);
}

// Input row iy, columns ix..ix+5 (zero outside the image) as (columns 0-3, columns 4-5 in .xy).
fn patchRow(base: u32, iy: i32, ix: i32) -> array<vec4f, 2> {
  if (iy < 0 || iy >= i32(p.h)) { return array<vec4f, 2>(vec4f(0.0), vec4f(0.0)); }
  let row = i32(base) + iy * i32(p.w);
  return array<vec4f, 2>(vec4f(at(row, ix), at(row, ix + 1), at(row, ix + 2), at(row, ix + 3)), vec4f(at(row, ix + 4), at(row, ix + 5), 0.0, 0.0));
}

// B^T x: 6 -> 6, on four lanes.
fn bT(x: S6) -> S6 {
  return S6(
    4.0 * x.v0 - 5.0 * x.v2 + x.v4,
    x.v3 + x.v4 - 4.0 * (x.v1 + x.v2),
    4.0 * (x.v1 - x.v2) - x.v3 + x.v4,
    2.0 * (x.v3 - x.v1) - x.v2 + x.v4,
    2.0 * (x.v1 - x.v3) - x.v2 + x.v4,
    4.0 * x.v1 - 5.0 * x.v3 + x.v5,
  );
}

// Contract: V[q, ic, t] for all 36 q of the i-th (ic, t); lanes run along t (contiguous stores).
fn inputTransform(i: u32) {
  let T = p.n * p.ty * p.tx;
  if (i >= p.ic * T) { return; }
  let ic = i / T;
  let tile = tileOf(i - ic * T);
  let base = (tile.n * p.ic + ic) * p.h * p.w;
#if NORM
  planeCoef = coef[tile.n * p.ic + ic];
#endif
  let iy = i32(4u * tile.y) - p.pad;
  let ix = i32(4u * tile.x) - p.pad;
  let d0 = patchRow(base, iy, ix);
  let d1 = patchRow(base, iy + 1, ix);
  let d2 = patchRow(base, iy + 2, ix);
  let d3 = patchRow(base, iy + 3, ix);
  let d4 = patchRow(base, iy + 4, ix);
  let d5 = patchRow(base, iy + 5, ix);
  // Rows of B^T d (lanes = columns 0-3, and 4-5 in .xy).
  let l = bT(S6(d0[0], d1[0], d2[0], d3[0], d4[0], d5[0]));
  let r = bT(S6(d0[1], d1[1], d2[1], d3[1], d4[1], d5[1]));
  // Transposed (lanes = rows 0-3, and 4-5), then . B along the columns.
  let lo = bT(S6(vec4f(l.v0.x, l.v1.x, l.v2.x, l.v3.x), vec4f(l.v0.y, l.v1.y, l.v2.y, l.v3.y), vec4f(l.v0.z, l.v1.z, l.v2.z, l.v3.z),
                 vec4f(l.v0.w, l.v1.w, l.v2.w, l.v3.w), vec4f(r.v0.x, r.v1.x, r.v2.x, r.v3.x), vec4f(r.v0.y, r.v1.y, r.v2.y, r.v3.y)));
  let hi = bT(S6(vec4f(l.v4.x, l.v5.x, 0.0, 0.0), vec4f(l.v4.y, l.v5.y, 0.0, 0.0), vec4f(l.v4.z, l.v5.z, 0.0, 0.0),
                 vec4f(l.v4.w, l.v5.w, 0.0, 0.0), vec4f(r.v4.x, r.v5.x, 0.0, 0.0), vec4f(r.v4.y, r.v5.y, 0.0, 0.0)));
  // V[6k + c] = (B^T d B)[k][c]: lo.v<c>[k] for rows k < 4, hi.v<c>[k - 4] for rows 4, 5.
  let s = p.ic * T;
  putV(0u, s, i, lo.v0, hi.v0);
  putV(1u, s, i, lo.v1, hi.v1);
  putV(2u, s, i, lo.v2, hi.v2);
  putV(3u, s, i, lo.v3, hi.v3);
  putV(4u, s, i, lo.v4, hi.v4);
  putV(5u, s, i, lo.v5, hi.v5);
}
#endif

#if OUTPUT
// A^T x: 6 -> 4, on four lanes.
fn aT(x: S6) -> S4 {
  let s12 = x.v1 + x.v2;
  let d12 = x.v1 - x.v2;
  let s34 = x.v3 + x.v4;
  let d34 = x.v3 - x.v4;
  return S4(x.v0 + s12 + s34, d12 + 2.0 * d34, s12 + 4.0 * s34, d12 + 8.0 * d34 + x.v5);
}

fn store(i: u32, v: f32) {
#if RESIDUAL
  let r = v + residual[i];
#else
  let r = v;
#endif
  if (p.accumulate != 0u) { out[i] = out[i] + r; } else { out[i] = r; }
}

// Output row oy (if inside the image), columns ox..ox+3 (those inside) = v.
fn storeRow(o: u32, oy: u32, ox: u32, v: vec4f) {
  if (oy >= p.ho) { return; }
  store(o, v.x);
  if (ox + 1u < p.wo) { store(o + 1u, v.y); }
  if (ox + 2u < p.wo) { store(o + 2u, v.z); }
  if (ox + 3u < p.wo) { store(o + 3u, v.w); }
}

// Contract: the 4x4 outputs of tile t in channel oc (those inside the image).
@compute @workgroup_size(WG)
fn output_transform(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let T = p.n * p.ty * p.tx;
  if (i >= p.oc * T) { return; }
  let oc = i / T;
  let tile = tileOf(i - oc * T);
  let s = p.oc * T;
  // Columns c of M's 6x6 with lanes = rows 0-3 (lo) and 4-5 (hi); A along the columns first.
  var lo: S6;
  var hi: S6;
  lo.v0 = vec4f(M[i], M[6u * s + i], M[12u * s + i], M[18u * s + i]);
  lo.v1 = vec4f(M[s + i], M[7u * s + i], M[13u * s + i], M[19u * s + i]);
  lo.v2 = vec4f(M[2u * s + i], M[8u * s + i], M[14u * s + i], M[20u * s + i]);
  lo.v3 = vec4f(M[3u * s + i], M[9u * s + i], M[15u * s + i], M[21u * s + i]);
  lo.v4 = vec4f(M[4u * s + i], M[10u * s + i], M[16u * s + i], M[22u * s + i]);
  lo.v5 = vec4f(M[5u * s + i], M[11u * s + i], M[17u * s + i], M[23u * s + i]);
  hi.v0 = vec4f(M[24u * s + i], M[30u * s + i], 0.0, 0.0);
  hi.v1 = vec4f(M[25u * s + i], M[31u * s + i], 0.0, 0.0);
  hi.v2 = vec4f(M[26u * s + i], M[32u * s + i], 0.0, 0.0);
  hi.v3 = vec4f(M[27u * s + i], M[33u * s + i], 0.0, 0.0);
  hi.v4 = vec4f(M[28u * s + i], M[34u * s + i], 0.0, 0.0);
  hi.v5 = vec4f(M[29u * s + i], M[35u * s + i], 0.0, 0.0);
  // (M A)[k][c] for c < 4: a.v<c>[k] (rows 0-3), b.v<c>[k - 4] (rows 4, 5).
  let a = aT(lo);
  let b = aT(hi);
  // Transposed (lanes = the 4 output columns), then A^T along the rows.
  let y = aT(S6(vec4f(a.v0.x, a.v1.x, a.v2.x, a.v3.x), vec4f(a.v0.y, a.v1.y, a.v2.y, a.v3.y), vec4f(a.v0.z, a.v1.z, a.v2.z, a.v3.z),
                vec4f(a.v0.w, a.v1.w, a.v2.w, a.v3.w), vec4f(b.v0.x, b.v1.x, b.v2.x, b.v3.x), vec4f(b.v0.y, b.v1.y, b.v2.y, b.v3.y)));
  var bv = vec4f(select(0.0, bias[min(oc, arrayLength(&bias) - 1u)], p.has_bias != 0u));
#if CHANNEL_BIAS
  bv += vec4f(chanBias[tile.n * p.oc + oc]);
#endif
  let oy = 4u * tile.y;
  let ox = 4u * tile.x;
  let o = ((tile.n * p.oc + oc) * p.ho + oy) * p.wo + ox;
  storeRow(o, oy, ox, y.v0 + bv);
  storeRow(o + p.wo, oy + 1u, ox, y.v1 + bv);
  storeRow(o + 2u * p.wo, oy + 2u, ox, y.v2 + bv);
  storeRow(o + 3u * p.wo, oy + 3u, ox, y.v3 + bv);
}
#endif

#if GRADOUT
// D[6k + c] for the six rows k of column c: v holds rows 0-3, h rows 4-5 (in .xy); stride s.
fn putD(c: u32, s: u32, i: u32, v: vec4f, h: vec4f) {
  D[c * s + i] = v.x;
  D[(6u + c) * s + i] = v.y;
  D[(12u + c) * s + i] = v.z;
  D[(18u + c) * s + i] = v.w;
  D[(24u + c) * s + i] = h.x;
  D[(30u + c) * s + i] = h.y;
}

// A x: 4 -> 6, on four lanes.
fn a6(x: S4) -> S6 {
  let e = x.v0 + x.v2;
  let o = x.v1 + x.v3;
  let e4 = x.v0 + 4.0 * x.v2;
  let o8 = 2.0 * x.v1 + 8.0 * x.v3;
  return S6(x.v0, e + o, e - o, e4 + o8, e4 - o8, x.v3);
}

// dy row oy, columns ox..ox+3, zero outside the image.
fn dyRow(o: u32, oy: u32, ox: u32) -> vec4f {
  if (oy >= p.ho) { return vec4f(0.0); }
  var v = vec4f(dy[o], 0.0, 0.0, 0.0);
  if (ox + 1u < p.wo) { v.y = dy[o + 1u]; }
  if (ox + 2u < p.wo) { v.z = dy[o + 2u]; }
  if (ox + 3u < p.wo) { v.w = dy[o + 3u]; }
  return v;
}

// Contract: D[q, oc, t] for all 36 q of the i-th (oc, t): tile t's 4x4 of dy[n, oc] spread to 6x6.
fn gradOutputTransform(i: u32) {
  let T = p.n * p.ty * p.tx;
  if (i >= p.oc * T) { return; }
  let oc = i / T;
  let tile = tileOf(i - oc * T);
  let oy = 4u * tile.y;
  let ox = 4u * tile.x;
  let o = ((tile.n * p.oc + oc) * p.ho + oy) * p.wo + ox;
  // Rows of A dY (lanes = the 4 columns), transposed (lanes = rows 0-3, 4-5), then . A^T.
  let r = a6(S4(dyRow(o, oy, ox), dyRow(o + p.wo, oy + 1u, ox), dyRow(o + 2u * p.wo, oy + 2u, ox), dyRow(o + 3u * p.wo, oy + 3u, ox)));
  let lo = a6(S4(vec4f(r.v0.x, r.v1.x, r.v2.x, r.v3.x), vec4f(r.v0.y, r.v1.y, r.v2.y, r.v3.y), vec4f(r.v0.z, r.v1.z, r.v2.z, r.v3.z), vec4f(r.v0.w, r.v1.w, r.v2.w, r.v3.w)));
  let hi = a6(S4(vec4f(r.v4.x, r.v5.x, 0.0, 0.0), vec4f(r.v4.y, r.v5.y, 0.0, 0.0), vec4f(r.v4.z, r.v5.z, 0.0, 0.0), vec4f(r.v4.w, r.v5.w, 0.0, 0.0)));
  // D[6k + c] = (A dY A^T)[k][c]: lo.v<c>[k] for rows k < 4, hi.v<c>[k - 4] for rows 4, 5.
  let s = p.oc * T;
  putD(0u, s, i, lo.v0, hi.v0);
  putD(1u, s, i, lo.v1, hi.v1);
  putD(2u, s, i, lo.v2, hi.v2);
  putD(3u, s, i, lo.v3, hi.v3);
  putD(4u, s, i, lo.v4, hi.v4);
  putD(5u, s, i, lo.v5, hi.v5);
}
#endif

#if WGRADT
// G^T x: 6 -> 3, on four lanes.
fn gt3(x: S6) -> S3 {
  let s12 = x.v1 + x.v2;
  let s34 = x.v3 + x.v4;
  return S3(0.25 * x.v0 - s12 / 6.0 + s34 / 24.0, (x.v2 - x.v1) / 6.0 + (x.v3 - x.v4) / 12.0, (s34 - s12) / 6.0 + x.v5);
}

// Contract: dw[oc, ic, 0..2, 0..2] = G^T dU[., oc, ic] G (w is [cout = oc, cin = ic, 3, 3]).
@compute @workgroup_size(WG)
fn weight_grad_transform(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let pairs = p.oc * p.ic;
  if (i >= pairs) { return; }
  // Columns c of dU's 6x6 with lanes = rows 0-3 (lo) and 4-5 (hi).
  var lo: S6;
  var hi: S6;
  lo.v0 = vec4f(dU[i], dU[6u * pairs + i], dU[12u * pairs + i], dU[18u * pairs + i]);
  lo.v1 = vec4f(dU[pairs + i], dU[7u * pairs + i], dU[13u * pairs + i], dU[19u * pairs + i]);
  lo.v2 = vec4f(dU[2u * pairs + i], dU[8u * pairs + i], dU[14u * pairs + i], dU[20u * pairs + i]);
  lo.v3 = vec4f(dU[3u * pairs + i], dU[9u * pairs + i], dU[15u * pairs + i], dU[21u * pairs + i]);
  lo.v4 = vec4f(dU[4u * pairs + i], dU[10u * pairs + i], dU[16u * pairs + i], dU[22u * pairs + i]);
  lo.v5 = vec4f(dU[5u * pairs + i], dU[11u * pairs + i], dU[17u * pairs + i], dU[23u * pairs + i]);
  hi.v0 = vec4f(dU[24u * pairs + i], dU[30u * pairs + i], 0.0, 0.0);
  hi.v1 = vec4f(dU[25u * pairs + i], dU[31u * pairs + i], 0.0, 0.0);
  hi.v2 = vec4f(dU[26u * pairs + i], dU[32u * pairs + i], 0.0, 0.0);
  hi.v3 = vec4f(dU[27u * pairs + i], dU[33u * pairs + i], 0.0, 0.0);
  hi.v4 = vec4f(dU[28u * pairs + i], dU[34u * pairs + i], 0.0, 0.0);
  hi.v5 = vec4f(dU[29u * pairs + i], dU[35u * pairs + i], 0.0, 0.0);
  // (dU G)[k][c] for c < 3: a.v<c>[k] (rows 0-3), b.v<c>[k - 4] (rows 4, 5).
  let a = gt3(lo);
  let b = gt3(hi);
  // Transposed (lanes = the 3 kernel columns), then G^T along the rows.
  let k = gt3(S6(vec4f(a.v0.x, a.v1.x, a.v2.x, 0.0), vec4f(a.v0.y, a.v1.y, a.v2.y, 0.0), vec4f(a.v0.z, a.v1.z, a.v2.z, 0.0),
                 vec4f(a.v0.w, a.v1.w, a.v2.w, 0.0), vec4f(b.v0.x, b.v1.x, b.v2.x, 0.0), vec4f(b.v0.y, b.v1.y, b.v2.y, 0.0)));
  let o = i * 9u;
  dw[o] = k.v0.x; dw[o + 1u] = k.v0.y; dw[o + 2u] = k.v0.z;
  dw[o + 3u] = k.v1.x; dw[o + 4u] = k.v1.y; dw[o + 5u] = k.v1.z;
  dw[o + 6u] = k.v2.x; dw[o + 7u] = k.v2.y; dw[o + 8u] = k.v2.z;
}
#endif

#if PREPARE
// Contract: the input transform of invocations [0, ic*T), then the weight transform of the next oc*ic.
@compute @workgroup_size(WG)
fn prepare(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let inputs = p.ic * p.n * p.ty * p.tx;
  if (i < inputs) { inputTransform(i); } else { weightTransform(i - inputs); }
}
#endif

#if PREPARE_WGRAD
// Contract: the input transform of invocations [0, ic*T), then the gradient transform of the next oc*T.
@compute @workgroup_size(WG)
fn prepare_wgrad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let inputs = p.ic * p.n * p.ty * p.tx;
  if (i < inputs) { inputTransform(i); } else { gradOutputTransform(i - inputs); }
}
#endif
