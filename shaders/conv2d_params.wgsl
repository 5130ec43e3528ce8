// The uniform block shared by the conv2d shaders (conv2d_direct, conv2d_tiled, conv2d_gemm; pulled in
// with `#include conv2d_params`; no bindings of its own besides p, no entry points). It mirrors the
// Params packed by src/kernels/conv2d.ts, field for field.

struct Params {
  n: u32, cin: u32, h: u32, w: u32,
  cout: u32, ho: u32, wo: u32, k: u32,
  stride: u32, pad: u32, accumulate: u32, has_bias: u32,
  splits: u32, kchunk: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
