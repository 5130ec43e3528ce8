// Helpers of the convolution's explicit-GEMM variant ('gemm' in src/kernels/conv2d.ts): the
// convolution becomes batched matmuls (src/kernels/matmul.ts) on a scratch matrix of unfolded windows.
//   im2col:   col[n, ci*k*k + kh*k + kw, oy*wo + ox] = x[n, ci, oy*s+kh-p, ox*s+kw-p] (0 outside)
//   col2im:   dx[n, ci, iy, ix] (+)= sum over the taps (kh, kw) that land on (iy, ix) of
//             dcol[n, ci*k*k + kh*k + kw, oy*wo + ox]  (a gather: each input pixel sums its own taps)
//   add_bias: y[n, co, i] += b[co]
// Layouts: x/dx [n, cin, h, w], y [n, cout, ho, wo] NCHW float32; col/dcol [n, cin*k*k, ho*wo].
// Bindings: 0 params, then im2col: 1 x, 2 col | col2im: 1 dcol, 2 dx | add_bias: 1 b, 2 y.
// Dispatches (grid1d, 2-D when large): im2col over n*cin*ho*wo, col2im over n*cin*h*w, add_bias over
// n*cout*ho*wo invocations.

override WG: u32 = 64;

// Kernel size, stride and padding as pipeline constants, so the tap loops unroll.
override KS: u32 = 3;
override ST: u32 = 1;
override PD: u32 = 1;

#include grid

#include conv2d_params
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// Contract: writes the k*k col entries of one (n, ci, oy, ox); lanes run along ox so stores are
// contiguous in each col row.
@compute @workgroup_size(WG)
fn im2col(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let ohw = p.ho * p.wo;
  if (i >= p.n * p.cin * ohw) { return; }
  let nc = i / ohw; // n * cin + ci
  let r = i - nc * ohw;
  let oy = r / p.wo;
  let ox = r - oy * p.wo;
  let xc = nc * p.h * p.w;
  // col row (n, ci*kk + t) starts at (n*cin + ci)*kk*ohw + t*ohw.
  let cb = nc * KS * KS * ohw + r;
  for (var kh = 0u; kh < KS; kh++) {
    let iy = i32(oy * ST + kh) - i32(PD);
    let rowok = iy >= 0 && iy < i32(p.h);
    for (var kw = 0u; kw < KS; kw++) {
      let ix = i32(ox * ST + kw) - i32(PD);
      let ok = rowok && ix >= 0 && ix < i32(p.w);
      let v = select(0.0, src[u32(select(0, i32(xc) + iy * i32(p.w) + ix, ok))], ok);
      dst[cb + (kh * KS + kw) * ohw] = v;
    }
  }
}

// Contract: dx[n, ci, iy, ix] = (dx if accumulate) + sum of the dcol entries of its taps.
@compute @workgroup_size(WG)
fn col2im(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let hw = p.h * p.w;
  if (i >= p.n * p.cin * hw) { return; }
  let nc = i / hw;
  let r = i - nc * hw;
  let iy = r / p.w;
  let ix = r - iy * p.w;
  let ohw = p.ho * p.wo;
  let cb = nc * KS * KS * ohw;
  var s = 0.0;
  for (var kh = 0u; kh < KS; kh++) {
    // oy*s = iy + p - kh must be a non-negative multiple of s below ho*s.
    let ty = i32(iy + PD) - i32(kh);
    let oy = ty / i32(ST);
    let yok = ty >= 0 && ty % i32(ST) == 0 && oy < i32(p.ho);
    for (var kw = 0u; kw < KS; kw++) {
      let tx = i32(ix + PD) - i32(kw);
      let ox = tx / i32(ST);
      let ok = yok && tx >= 0 && tx % i32(ST) == 0 && ox < i32(p.wo);
      let j = i32(cb + (kh * KS + kw) * ohw) + oy * i32(p.wo) + ox;
      s += select(0.0, src[u32(select(0, j, ok))], ok);
    }
  }
  if (p.accumulate != 0u) { dst[i] = dst[i] + s; } else { dst[i] = s; }
}

// Contract: y[n, co, i] += b[co] for every output element.
@compute @workgroup_size(WG)
fn add_bias(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let ohw = p.ho * p.wo;
  if (i >= p.n * p.cout * ohw) { return; }
  let co = (i / ohw) % p.cout;
  dst[i] = dst[i] + src[co];
}
