// 2-D convolution as a tiled implicit GEMM with workgroup-memory tiles: the variant for real GPUs.
// C[M,N] = A[M,K] B[K,N], where A and B are read straight from the tensors (im2col is never stored):
//   FORWARD: M = n*ho*wo, N = cout, K = cin*k*k; A = x windows, B[k,co] = w[co,k];  C -> y (+ bias)
//   DGRAD:   M = n*h*w,   N = cin,  K = cout*k*k; A[m,(co,kh,kw)] = dy at the output position that tap
//            (kh,kw) maps onto input pixel m (zero if none); B = w[co,ci,kh,kw];    C -> dx (or dx +=)
//   WGRAD:   M = cout,    N = cin*k*k, K = n*ho*wo; A[co,pix] = dy; B[pix,(ci,kh,kw)] = x windows;
//            C -> dw, or with split-K (splits > 1) -> part[split, cout*cin*k*k], summed by sum_splits.
// Layouts: NCHW float32; w[cout,cin,k,k]. One entry point `gemm`; the pass is chosen by a flag.
// Bindings: 0 params; FORWARD 1 x, 2 w, 3 b, 4 y; DGRAD 1 dy, 2 w, 3 dx; WGRAD 1 dy, 2 x, 3 dw|part.
// Dispatch: (ceil(N/64), ceil(M/64), splits); 256 invocations, each a 4x4 block of C; K tiles of 16.
// Split z covers K range [z*kchunk, min(K, (z+1)*kchunk)).

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;

#include conv2d_params

var<workgroup> As: array<f32, 1024>; // [BK][BM]
var<workgroup> Bs: array<f32, 1024>; // [BK][BN]

// x[n,ci,oy*s+kh-p,ox*s+kw-p] for output pixel `pix` (flat n,oy,ox) and tap `t` (flat ci,kh,kw); 0 in padding.
fn xWindow(pix: u32, t: u32) -> f32 {
  let ohw = p.ho * p.wo;
  let kk = p.k * p.k;
  let ni = pix / ohw;
  let r = pix - ni * ohw;
  let oy = r / p.wo;
  let ox = r - oy * p.wo;
  let ci = t / kk;
  let q = t - ci * kk;
  let kh = q / p.k;
  let kw = q - kh * p.k;
  let iy = i32(oy * p.stride + kh) - i32(p.pad);
  let ix = i32(ox * p.stride + kw) - i32(p.pad);
  if (iy < 0 || iy >= i32(p.h) || ix < 0 || ix >= i32(p.w)) { return 0.0; }
  return readX(((ni * p.cin + ci) * p.h + u32(iy)) * p.w + u32(ix));
}

#if FORWARD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
fn readX(i: u32) -> f32 { return x[i]; }
fn sizeM() -> u32 { return p.n * p.ho * p.wo; }
fn sizeN() -> u32 { return p.cout; }
fn sizeK() -> u32 { return p.cin * p.k * p.k; }
fn loadA(m: u32, k: u32) -> f32 { return xWindow(m, k); }
fn loadB(k: u32, n: u32) -> f32 { return wt[n * sizeK() + k]; }
fn storeC(m: u32, n: u32, v: f32, split: u32) {
  let ohw = p.ho * p.wo;
  let ni = m / ohw;
  var b = 0.0;
  if (p.has_bias != 0u) { b = bias[n]; }
  y[(ni * p.cout + n) * ohw + m - ni * ohw] = v + b;
}
#endif

#if DGRAD
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
fn readX(i: u32) -> f32 { return 0.0; }
fn sizeM() -> u32 { return p.n * p.h * p.w; }
fn sizeN() -> u32 { return p.cin; }
fn sizeK() -> u32 { return p.cout * p.k * p.k; }
fn loadA(m: u32, k: u32) -> f32 {
  let hw = p.h * p.w;
  let kk = p.k * p.k;
  let ni = m / hw;
  let r = m - ni * hw;
  let iy = r / p.w;
  let ix = r - iy * p.w;
  let co = k / kk;
  let q = k - co * kk;
  let kh = q / p.k;
  let kw = q - kh * p.k;
  let ty = i32(iy + p.pad) - i32(kh);
  let tx = i32(ix + p.pad) - i32(kw);
  if (ty < 0 || tx < 0) { return 0.0; }
  let oy = u32(ty) / p.stride;
  let ox = u32(tx) / p.stride;
  if (oy * p.stride != u32(ty) || ox * p.stride != u32(tx) || oy >= p.ho || ox >= p.wo) { return 0.0; }
  return dy[((ni * p.cout + co) * p.ho + oy) * p.wo + ox];
}
fn loadB(k: u32, n: u32) -> f32 {
  let kk = p.k * p.k;
  let co = k / kk;
  return wt[(co * p.cin + n) * kk + k - co * kk];
}
fn storeC(m: u32, n: u32, v: f32, split: u32) {
  let hw = p.h * p.w;
  let ni = m / hw;
  let i = (ni * p.cin + n) * hw + m - ni * hw;
  if (p.accumulate != 0u) { dx[i] = dx[i] + v; } else { dx[i] = v; }
}
#endif

#if WGRAD
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
fn readX(i: u32) -> f32 { return x[i]; }
fn sizeM() -> u32 { return p.cout; }
fn sizeN() -> u32 { return p.cin * p.k * p.k; }
fn sizeK() -> u32 { return p.n * p.ho * p.wo; }
fn loadA(m: u32, k: u32) -> f32 {
  let ohw = p.ho * p.wo;
  let ni = k / ohw;
  return dy[(ni * p.cout + m) * ohw + k - ni * ohw];
}
fn loadB(k: u32, n: u32) -> f32 { return xWindow(k, n); }
fn storeC(m: u32, n: u32, v: f32, split: u32) { dw[(split * sizeM() + m) * sizeN() + n] = v; }
#endif

// Contract: the (wid.y, wid.x) 64x64 tile of C over K range split wid.z, stored through storeC.
@compute @workgroup_size(256)
fn gemm(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let M = sizeM();
  let N = sizeN();
  let kBegin = wid.z * p.kchunk;
  let kEnd = min(sizeK(), kBegin + p.kchunk);
  let mBase = wid.y * BM;
  let nBase = wid.x * BN;
  let tn = lid % 16u;
  let tm = lid / 16u;
  var acc: array<vec4f, 4>;
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    for (var i = 0u; i < 4u; i++) {
      let e = lid + i * 256u;
      let kk = e / BM;
      let mm = e - kk * BM;
      let ka = k0 + kk;
      var a = 0.0;
      if (mBase + mm < M && ka < kEnd) { a = loadA(mBase + mm, ka); }
      As[e] = a;
      let kb = k0 + e / BN;
      let nn = e - (e / BN) * BN;
      var b = 0.0;
      if (nBase + nn < N && kb < kEnd) { b = loadB(kb, nBase + nn); }
      Bs[e] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let ao = kk * BM + tm * 4u;
      let bo = kk * BN + tn * 4u;
      let bv = vec4f(Bs[bo], Bs[bo + 1u], Bs[bo + 2u], Bs[bo + 3u]);
      acc[0] = fma(vec4f(As[ao]), bv, acc[0]);
      acc[1] = fma(vec4f(As[ao + 1u]), bv, acc[1]);
      acc[2] = fma(vec4f(As[ao + 2u]), bv, acc[2]);
      acc[3] = fma(vec4f(As[ao + 3u]), bv, acc[3]);
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = mBase + tm * 4u + i;
    if (m >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = nBase + tn * 4u + j;
      if (n < N) { storeC(m, n, acc[i][j], wid.z); }
    }
  }
}
