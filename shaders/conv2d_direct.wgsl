// 2-D convolution, register-blocked implicit GEMM without workgroup memory or barriers: the variant for
// CPU software adapters (lavapipe, SwiftShader), which run a workgroup's invocations as SIMD lanes.
// Each invocation keeps a small block of outputs in registers. The 4 channels of a block come from the
// workgroup id, so their weight (or dy) loads are the same for every lane: the compiler turns them into
// one scalar load + broadcast instead of a gather. With flag ROWS (the host sets it when a row's
// length is a multiple of TM) an invocation's TM pixels are one run of a row and share the overlapping
// parts of their windows; otherwise each pixel has a window base and a bit mask of its in-bounds taps.
// Layouts (PyTorch, NCHW float32): x[n,cin,h,w], w[cout,cin,k,k], b[cout], y/dy[n,cout,ho,wo].
// Bindings per entry (see the flag blocks): 0 params, then the tensors in the order listed there.
//   forward          (FORWARD):  1 x, 2 w, 3 b, 4 y        y = conv(x, w) + b
//   backward_input   (DGRAD):    1 dy, 2 w, 3 dx           dx (+)= conv^T(dy, w)
//   backward_weight  (WGRAD):    1 dy, 2 x, 3 dw           dw = sum over n,oy,ox of dy * x window
// Dispatches: forward (ceil(n*ho*wo / (TM*WG)), ceil(cout/4), 1);
//   backward_input, once per input parity class (PY, PX) in [0,s)^2:
//     (ceil(n*ceil((h-PY)/s)*ceil((w-PX)/s) / (TM*WG)), ceil(cin/4), 1);
//   backward_weight (ceil(cin/WG), ceil(cout/4), 1).

override WG: u32 = 64;
// Kernel size, stride and padding are pipeline constants so that the tap loops unroll and the
// per-pixel arrays stay in registers.
override KS: u32 = 3;
override ST: u32 = 1;
override PD: u32 = 1;
// Output pixels per invocation (forward, backward_input): 8 where rows come in runs of 8, else 4. The
// per-pixel arrays are sized TM_MAX; unrolling with the constant TM leaves the unused slots dead.
override TM: u32 = 4;
const TM_MAX: u32 = 8u;
const RUN: u32 = 4u; // output pixels sharing x loads per step (backward_weight)
const SPAN: u32 = 17u; // >= the x (or dy) values a run of TM or RUN pixels touches in one kernel row

#include conv2d_params

#if FORWARD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

// Contract: y[n,co,oy,ox] = b[co] + sum x[n,ci,oy*s+kh-p,ox*s+kw-p] w[co,ci,kh,kw] for TM flat output
// positions and 4 output channels per invocation.
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let hw = p.h * p.w;
  let ohw = p.ho * p.wo;
  let rows = p.n * ohw;
  let m0 = gid.x * TM;
  let co0 = wid.y * 4u;
  let ck = p.cin * KS * KS;
  let wrow = vec4u(min(co0, p.cout - 1u), min(co0 + 1u, p.cout - 1u), min(co0 + 2u, p.cout - 1u), min(co0 + 3u, p.cout - 1u)) * ck;
  var acc: array<vec4f, TM_MAX>;
#if ROWS
  // wo is a multiple of TM: the TM pixels are one run of an output row, and their windows overlap,
  // so each kernel row needs (TM-1)*s + k gathers instead of TM*k.
  let mc = min(m0, rows - TM);
  let ni = mc / ohw;
  let r = mc - ni * ohw;
  let oy = r / p.wo;
  let iy0 = i32(oy * ST) - i32(PD);
  let ixb = i32((r - oy * p.wo) * ST) - i32(PD);
  for (var ci = 0u; ci < p.cin; ci++) {
    let xc = i32((ni * p.cin + ci) * hw);
    let wc = ci * KS * KS;
    for (var kh = 0u; kh < KS; kh++) {
      let iy = iy0 + i32(kh);
      let rowok = iy >= 0 && iy < i32(p.h);
      let xrow = xc + iy * i32(p.w);
      var xv: array<f32, SPAN>;
      for (var q = 0u; q < (TM - 1u) * ST + KS; q++) {
        if (KS >= ST || q % ST == 0u) {
          let ix = ixb + i32(q);
          let ok = rowok && ix >= 0 && ix < i32(p.w);
          xv[q] = select(0.0, x[u32(select(0, xrow + ix, ok))], ok);
        }
      }
      for (var kw = 0u; kw < KS; kw++) {
        let wi = wc + kh * KS + kw;
        let wv = vec4f(wt[wrow.x + wi], wt[wrow.y + wi], wt[wrow.z + wi], wt[wrow.w + wi]);
        for (var j = 0u; j < TM; j++) { acc[j] = fma(vec4f(xv[j * ST + kw]), wv, acc[j]); }
      }
    }
  }
#else
  // General sizes: each pixel has its own window base and a bit mask of its in-bounds taps.
  var base: array<i32, TM_MAX>;
  var mask: array<u32, TM_MAX>;
  for (var j = 0u; j < TM; j++) {
    let m = min(m0 + j, rows - 1u);
    let ni = m / ohw;
    let r = m - ni * ohw;
    let oy = r / p.wo;
    let ox = r - oy * p.wo;
    let iy0 = i32(oy * ST) - i32(PD);
    let ix0 = i32(ox * ST) - i32(PD);
    base[j] = i32(ni * p.cin * hw) + iy0 * i32(p.w) + ix0;
    var bits = 0u;
    for (var kh = 0u; kh < KS; kh++) {
      for (var kw = 0u; kw < KS; kw++) {
        let iy = iy0 + i32(kh);
        let ix = ix0 + i32(kw);
        let inside = iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w);
        bits |= select(0u, 1u << (kh * KS + kw), inside);
      }
    }
    mask[j] = bits;
  }
  for (var ci = 0u; ci < p.cin; ci++) {
    let xc = i32(ci * hw);
    let wc = ci * KS * KS;
    for (var kh = 0u; kh < KS; kh++) {
      for (var kw = 0u; kw < KS; kw++) {
        let t = kh * KS + kw;
        let off = xc + i32(kh * p.w + kw);
        let wi = wc + t;
        let wv = vec4f(wt[wrow.x + wi], wt[wrow.y + wi], wt[wrow.z + wi], wt[wrow.w + wi]);
        for (var j = 0u; j < TM; j++) {
          let ok = ((mask[j] >> t) & 1u) != 0u;
          let xv = select(0.0, x[u32(select(0, base[j] + off, ok))], ok);
          acc[j] = fma(vec4f(xv), wv, acc[j]);
        }
      }
    }
  }
#endif
  var bv = vec4f(0.0);
  if (p.has_bias != 0u) {
    bv = vec4f(bias[wrow.x / ck], bias[wrow.y / ck], bias[wrow.z / ck], bias[wrow.w / ck]);
  }
  for (var j = 0u; j < TM; j++) {
    let m = m0 + j;
    if (m >= rows) { break; }
    let ni = m / ohw;
    let r = m - ni * ohw;
    let v = acc[j] + bv;
    for (var c = 0u; c < 4u; c++) {
      let co = co0 + c;
      if (co < p.cout) { y[(ni * p.cout + co) * ohw + r] = v[c]; }
    }
  }
}
#endif

#if DGRAD
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// The input-pixel parity class (iy mod s, ix mod s) of this dispatch. Inside a class the contributing
// taps are the same for every pixel (kh = KH0, KH0+s, ...), so stride 2 does no wasted multiply-adds
// on taps that never land, and the tap loops unroll.
override PY: u32 = 0;
override PX: u32 = 0;

// Contract: dx[n,ci,iy,ix] (+)= sum over co and the taps with oy*s+kh-p = iy, ox*s+kw-p = ix of
// dy[n,co,oy,ox] w[co,ci,kh,kw], for TM pixels of class (PY, PX) and 4 input channels per invocation.
@compute @workgroup_size(WG)
fn backward_input(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  if (PY >= p.h || PX >= p.w) { return; }
  let hc = (p.h - PY + ST - 1u) / ST;
  let wc = (p.w - PX + ST - 1u) / ST;
  let chw = hc * wc;
  let rows = p.n * chw;
  let m0 = gid.x * TM;
  if (m0 >= rows) { return; }
  let kh0 = (PY + PD) % ST;
  let kw0 = (PX + PD) % ST;
  let th = select(0u, (KS - kh0 + ST - 1u) / ST, kh0 < KS);
  let tw = select(0u, (KS - kw0 + ST - 1u) / ST, kw0 < KS);
  let hw = p.h * p.w;
  let ohw = p.ho * p.wo;
  let kk = KS * KS;
  let ci0 = wid.y * 4u;
  let wcol = vec4u(min(ci0, p.cin - 1u), min(ci0 + 1u, p.cin - 1u), min(ci0 + 2u, p.cin - 1u), min(ci0 + 3u, p.cin - 1u)) * kk;
  var acc: array<vec4f, TM_MAX>;
#if ROWS
  // The class's row length is a multiple of TM: the TM pixels are one run of a class row, their
  // output positions are consecutive, so each kernel row needs TM + tw - 1 gathers instead of TM*tw.
  let mc = min(m0, rows - TM);
  let ni = mc / chw;
  let r = mc - ni * chw;
  let a = r / wc;
  let oyb = i32((PY + ST * a + PD - kh0) / ST);
  let oxb = i32((PX + ST * (r - a * wc) + PD - kw0) / ST) - i32(tw) + 1;
  for (var co = 0u; co < p.cout; co++) {
    let dyc = i32((ni * p.cout + co) * ohw);
    let wco = co * p.cin * kk;
    for (var ih = 0u; ih < th; ih++) {
      let oy = oyb - i32(ih);
      let rowok = oy >= 0 && oy < i32(p.ho);
      let dyrow = dyc + oy * i32(p.wo);
      var dv: array<f32, SPAN>;
      for (var q = 0u; q < TM + tw - 1u; q++) {
        let ox = oxb + i32(q);
        let ok = rowok && ox >= 0 && ox < i32(p.wo);
        dv[q] = select(0.0, dy[u32(select(0, dyrow + ox, ok))], ok);
      }
      for (var iw = 0u; iw < tw; iw++) {
        let wi = wco + (kh0 + ST * ih) * KS + kw0 + ST * iw;
        let wv = vec4f(wt[wcol.x + wi], wt[wcol.y + wi], wt[wcol.z + wi], wt[wcol.w + wi]);
        for (var j = 0u; j < TM; j++) { acc[j] = fma(vec4f(dv[j + tw - 1u - iw]), wv, acc[j]); }
      }
    }
  }
#else
  var base: array<i32, TM_MAX>;
  var mask: array<u32, TM_MAX>;
  for (var j = 0u; j < TM; j++) {
    let m = min(m0 + j, rows - 1u);
    let ni = m / chw;
    let r = m - ni * chw;
    let a = r / wc;
    let iy = PY + ST * a;
    let ix = PX + ST * (r - a * wc);
    let oyb = i32((iy + PD - kh0) / ST);
    let oxb = i32((ix + PD - kw0) / ST);
    base[j] = i32(ni * p.cout * ohw) + oyb * i32(p.wo) + oxb;
    var bits = 0u;
    for (var ih = 0u; ih < th; ih++) {
      for (var iw = 0u; iw < tw; iw++) {
        let oy = oyb - i32(ih);
        let ox = oxb - i32(iw);
        let inside = oy >= 0 && oy < i32(p.ho) && ox >= 0 && ox < i32(p.wo);
        bits |= select(0u, 1u << (ih * tw + iw), inside);
      }
    }
    mask[j] = bits;
  }
  for (var co = 0u; co < p.cout; co++) {
    let dyc = i32(co * ohw);
    let wco = co * p.cin * kk;
    for (var ih = 0u; ih < th; ih++) {
      for (var iw = 0u; iw < tw; iw++) {
        let t = ih * tw + iw;
        let off = dyc - i32(ih * p.wo + iw);
        let wi = wco + (kh0 + ST * ih) * KS + kw0 + ST * iw;
        let wv = vec4f(wt[wcol.x + wi], wt[wcol.y + wi], wt[wcol.z + wi], wt[wcol.w + wi]);
        for (var j = 0u; j < TM; j++) {
          let ok = ((mask[j] >> t) & 1u) != 0u;
          let g = select(0.0, dy[u32(select(0, base[j] + off, ok))], ok);
          acc[j] = fma(vec4f(g), wv, acc[j]);
        }
      }
    }
  }
#endif
  for (var j = 0u; j < TM; j++) {
    let m = m0 + j;
    if (m >= rows) { break; }
    let ni = m / chw;
    let r = m - ni * chw;
    let a = r / wc;
    let pix = (PY + ST * a) * p.w + PX + ST * (r - a * wc);
    for (var c = 0u; c < 4u; c++) {
      let ci = ci0 + c;
      if (ci < p.cin) {
        let i = (ni * p.cin + ci) * hw + pix;
        if (p.accumulate != 0u) { dx[i] = dx[i] + acc[j][c]; } else { dx[i] = acc[j][c]; }
      }
    }
  }
}
#endif

#if WGRAD
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

// Contract: dw[co,ci,kh,kw] = sum_{n,oy,ox} dy[n,co,oy,ox] x[n,ci,oy*s+kh-p,ox*s+kw-p] for one input
// channel (the lane), all k*k taps and 4 output channels (workgroup y). Every loop bound and padding
// test is uniform and dy is loaded uniformly; only x is gathered, and a run of RUN output pixels
// shares the overlapping x values of its windows ((RUN-1)*s + k gathers per kernel row, not RUN*k).
@compute @workgroup_size(WG)
fn backward_weight(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let ci = min(gid.x, p.cin - 1u);
  let co0 = wid.y * 4u;
  let hw = p.h * p.w;
  let ohw = p.ho * p.wo;
  let corow = vec4u(min(co0, p.cout - 1u), min(co0 + 1u, p.cout - 1u), min(co0 + 2u, p.cout - 1u), min(co0 + 3u, p.cout - 1u)) * ohw;
  var acc: array<vec4f, 9>;
  for (var ni = 0u; ni < p.n; ni++) {
    let dyn = ni * p.cout * ohw;
    let xn = i32((ni * p.cin + ci) * hw);
    for (var oy = 0u; oy < p.ho; oy++) {
      let dyrow = dyn + oy * p.wo;
      for (var ox0 = 0u; ox0 < p.wo; ox0 += RUN) {
        var g: array<vec4f, RUN>;
        for (var j = 0u; j < RUN; j++) {
          let di = dyrow + min(ox0 + j, p.wo - 1u);
          let gv = vec4f(dy[corow.x + di], dy[corow.y + di], dy[corow.z + di], dy[corow.w + di]);
          g[j] = select(vec4f(0.0), gv, ox0 + j < p.wo);
        }
        let ixb = i32(ox0 * ST) - i32(PD);
        for (var kh = 0u; kh < KS; kh++) {
          let iy = i32(oy * ST + kh) - i32(PD);
          let rowok = iy >= 0 && iy < i32(p.h);
          let xrow = xn + iy * i32(p.w);
          var xv: array<f32, SPAN>;
          for (var q = 0u; q < (RUN - 1u) * ST + KS; q++) {
            if (KS >= ST || q % ST == 0u) {
              let ix = ixb + i32(q);
              let ok = rowok && ix >= 0 && ix < i32(p.w);
              xv[q] = select(0.0, x[u32(select(0, xrow + ix, ok))], ok);
            }
          }
          for (var j = 0u; j < RUN; j++) {
            for (var kw = 0u; kw < KS; kw++) { acc[kh * KS + kw] = fma(vec4f(xv[j * ST + kw]), g[j], acc[kh * KS + kw]); }
          }
        }
      }
    }
  }
  if (gid.x >= p.cin) { return; }
  for (var c = 0u; c < 4u; c++) {
    let co = co0 + c;
    if (co >= p.cout) { break; }
    for (var t = 0u; t < KS * KS; t++) { dw[(co * p.cin + ci) * KS * KS + t] = acc[t][c]; }
  }
}
#endif
