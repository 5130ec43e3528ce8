// Channel-wise plumbing for the U-Net, NCHW float32 with hw = H * W:
//   bias_add:          y[n,c,i] = x[n,c,i] + bias[n,c]        (per-sample channel bias: the time
//                                                             embedding projected into a ResBlock)
//   bias_add_inplace:  y[n,c,i] += bias[n,c]                  (y and x are the same tensor)
//   bias_backward:     dbias[n,c] = sum_i dy[n,c,i]           (one invocation per (n, c), no barriers)
//   concat:            out[n, 0:ca] = a[n], out[n, ca:ca+cb] = b[n]
//   split:             da[n] (=|+=) dout[n, 0:ca], db[n] (=|+=) dout[n, ca:ca+cb]   (ACCUMULATE adds)
// Bindings (binding i = i-th resource):
//   bias_add:          0 params, 1 x, 2 bias, 3 y (rw)
//   bias_add_inplace:  0 params, 1 bias, 2 y (rw)
//   bias_backward:     0 params, 1 dy, 2 dbias (rw)
//   concat:            0 params, 1 a, 2 b, 3 out (rw)
//   split:             0 params, 1 dout, 2 da (rw), 3 db (rw)
// Params: bias_*: {n, c, hw}; concat/split: {n, ca, cb, hw}. Flat index: flat_index (shaders/grid.wgsl).
// Flag: ACCUMULATE (split).

override WG: u32 = 256;

#include grid

struct Params { n: u32, c: u32, hw: u32, cb: u32 } // concat/split read c as ca

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> in0: array<f32>;
@group(0) @binding(2) var<storage, read> in1: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;

const CHUNK: u32 = 64u;

// y = x + bias[n, c] broadcast over hw.
@compute @workgroup_size(WG)
fn bias_add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n * p.c * p.hw) { return; }
  out3[i] = in0[i] + in1[i / p.hw];
}

// y += bias[n, c] (in place).
@compute @workgroup_size(WG)
fn bias_add_inplace(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n * p.c * p.hw) { return; }
  out2[i] = out2[i] + in0[i / p.hw];
}

// dbias[row] = sum over hw of dy[row, :], row = (n, c).
@compute @workgroup_size(WG)
fn bias_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_index(gid, nwg);
  if (row >= p.n * p.c) { return; }
  let base = row * p.hw;
  var total = 0.0;
  for (var i = 0u; i < p.hw; i += CHUNK) {
    var part = 0.0;
    for (var j = i; j < min(i + CHUNK, p.hw); j++) { part += in0[base + j]; }
    total += part;
  }
  out2[row] = total;
}

// out[n, k, i] = k < ca ? a[n, k, i] : b[n, k - ca, i].
@compute @workgroup_size(WG)
fn concat(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let ct = p.c + p.cb;
  if (i >= p.n * ct * p.hw) { return; }
  let s = i / (ct * p.hw);
  let r = i % (ct * p.hw); // offset inside the sample
  if (r < p.c * p.hw) {
    out3[i] = in0[s * p.c * p.hw + r];
  } else {
    out3[i] = in1[s * p.cb * p.hw + r - p.c * p.hw];
  }
}

@group(0) @binding(2) var<storage, read_write> da: array<f32>;
@group(0) @binding(3) var<storage, read_write> db: array<f32>;

// da[n, k, i] (=|+=) dout[n, k, i]; db[n, k, i] (=|+=) dout[n, ca + k, i].
@compute @workgroup_size(WG)
fn split(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  let ct = p.c + p.cb;
  if (i >= p.n * ct * p.hw) { return; }
  let s = i / (ct * p.hw);
  let r = i % (ct * p.hw);
  let g = in0[i];
  if (r < p.c * p.hw) {
    let j = s * p.c * p.hw + r;
#if ACCUMULATE
    da[j] = da[j] + g;
#else
    da[j] = g;
#endif
  } else {
    let j = s * p.cb * p.hw + r - p.c * p.hw;
#if ACCUMULATE
    db[j] = db[j] + g;
#else
    db[j] = g;
#endif
  }
}
