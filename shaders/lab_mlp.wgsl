// The score-matching lab's models: an MLP s_theta: R^D -> R^D evaluated together with its
// Jacobian-vector products, forward and backward (src/lab/score-model.ts).
//
// Stacked rows. A batch of B points with M tangent directions is one matrix of R = B (1 + M) rows:
// row b < B is the primal x_b, row m B + b (m = 1..M) carries the tangent v_m of point b. A dense
// layer multiplies every row by the same weights and adds its bias to primal rows only (a JVP has no
// bias); an activation maps the primal pre-activation a to phi(a) and a tangent row's t to phi'(a) t.
// The output's tangent rows are then J_s(x_b) v_m. Reverse mode over the same stacking: the dense
// layers' gradients sum over all rows, and the activation's backward couples the rows:
//   dL/da = dL/dh phi'(a) + sum_m dL/dhdot_m phi''(a) t_m,   dL/dt_m = dL/dhdot_m phi'(a),
// which is what the Jacobian trace's and sliced objectives' parameter gradients need.
//
// Entry points (one invocation per output element; flat index = flat_index(gid, nwg) (grid.wgsl)):
//   dense_forward   y[r, o] = sum_i x[r, i] W(o, i) + (r < B ? bias[o] : 0)         over R x nout
//                   OUTPUT: y = alpha_r (y + skip * x0[r, o]), alpha_r = scale * (COND ? 1 / sigma_b : 1)
//                   with log sigma_b = x0[b, D] the conditioning column of point b = r mod B.
//   output_backward dy[r, o] = alpha_r * dout[r, o]                                   over R x nout
//   act_forward     h = phi(a) on primal rows, phi'(a) t on tangent rows               over B x n
//   act_backward    the coupled backward above                                          over B x n
//   dense_dx        dx[r, i] = sum_o dy[r, o] W(o, i)                                  over R x nin
//   dense_dw        dW(o, i) (=|+=) sum_r dy[r, o] x[r, i]  (ACCUMULATE)               over nout x nin
//   dense_db        db[o] = sum_{r < B} dy[r, o]                                        over nout
// W(o, i) = W[o * nin + i] (PyTorch [out, in]); TRANSPOSED reads W[i * nout + o] (a tied weight:
// the same stored [in, out] matrix seen as its transpose), and dense_dw then writes that layout.
// Activation (override ACT): 0 tanh, 1 softplus, 2 sigmoid, 3 silu, with phi' and phi''.
// Params {rows R, primal B, nin, nout, dim D (x0 columns used by skip/COND), din (x0 row stride),
//         scale, skip}.
// Bindings:
//   dense_forward:   0 params, 1 x (read), 2 W (read), 3 bias (read), 4 x0 (read), 5 y (rw)
//   output_backward: 0 params, 1 dout (read), 2 x0 (read), 3 dy (rw)
//   act_forward:     0 params, 1 a (read), 2 h (rw)           (n = nout)
//   act_backward:    0 params, 1 a (read), 2 dh (read), 3 da (rw)
//   dense_dx:        0 params, 1 dy (read), 2 W (read), 3 dx (rw)
//   dense_dw:        0 params, 1 dy (read), 2 x (read), 3 dW (rw)
//   dense_db:        0 params, 1 dy (read), 2 db (rw)

override WG: u32 = 64;
#include grid
override ACT: u32 = 0u;

struct Params { rows: u32, primal: u32, nin: u32, nout: u32, dim: u32, din: u32, scale: f32, skip: f32 }

@group(0) @binding(0) var<uniform> p: Params;

fn weight(o: u32, i: u32) -> u32 {
#if TRANSPOSED
  return i * p.nout + o;
#else
  return o * p.nin + i;
#endif
}

fn sigmoid(a: f32) -> f32 { return 1.0 / (1.0 + exp(-a)); }

// phi(a), phi'(a), phi''(a). tanh as 1 - 2 / (exp(2|a|) + 1) with the sign: no inf / inf for large |a|.
fn act3(a: f32) -> vec3f {
  switch ACT {
    case 0u: {
      let t = sign(a) * (1.0 - 2.0 / (exp(2.0 * abs(a)) + 1.0));
      let d = 1.0 - t * t;
      return vec3f(t, d, -2.0 * t * d);
    }
    case 1u: {
      let s = sigmoid(a);
      return vec3f(max(a, 0.0) + log(1.0 + exp(-abs(a))), s, s * (1.0 - s));
    }
    case 2u: {
      let s = sigmoid(a);
      let d = s * (1.0 - s);
      return vec3f(s, d, d * (1.0 - 2.0 * s));
    }
    default: {
      let s = sigmoid(a);
      return vec3f(a * s, s * (1.0 + a * (1.0 - s)), s * (1.0 - s) * (2.0 + a * (1.0 - 2.0 * s)));
    }
  }
}

#if FORWARD
@group(0) @binding(1) var<storage, read> fx: array<f32>;
@group(0) @binding(2) var<storage, read> fw: array<f32>;
@group(0) @binding(3) var<storage, read> fbias: array<f32>;
@group(0) @binding(4) var<storage, read> fx0: array<f32>;
@group(0) @binding(5) var<storage, read_write> fy: array<f32>;

// alpha_r of the output layer.
fn row_scale(r: u32) -> f32 {
#if COND
  return p.scale * exp(-fx0[(r % p.primal) * p.din + p.dim]);
#else
  return p.scale;
#endif
}

@compute @workgroup_size(WG)
fn dense_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= p.rows * p.nout) { return; }
  let r = k / p.nout;
  let o = k % p.nout;
  var acc = 0.0;
  for (var i = 0u; i < p.nin; i++) { acc += fx[r * p.nin + i] * fw[weight(o, i)]; }
  if (r < p.primal) { acc += fbias[o]; }
#if OUTPUT
  acc = row_scale(r) * (acc + p.skip * fx0[r * p.din + o]);
#endif
  fy[k] = acc;
}
#endif

#if OUTPUT_BACKWARD
@group(0) @binding(1) var<storage, read> odout: array<f32>;
@group(0) @binding(2) var<storage, read> ox0: array<f32>;
@group(0) @binding(3) var<storage, read_write> ody: array<f32>;

@compute @workgroup_size(WG)
fn output_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= p.rows * p.nout) { return; }
  let r = k / p.nout;
#if COND
  let alpha = p.scale * exp(-ox0[(r % p.primal) * p.din + p.dim]);
#else
  let alpha = p.scale;
#endif
  ody[k] = alpha * odout[k];
}
#endif

#if ACT_FORWARD
@group(0) @binding(1) var<storage, read> aa: array<f32>;
@group(0) @binding(2) var<storage, read_write> ah: array<f32>;

@compute @workgroup_size(WG)
fn act_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= p.primal * p.nout) { return; }
  let f = act3(aa[k]);
  ah[k] = f.x;
  let stride = p.primal * p.nout;
  for (var m = stride; m < p.rows * p.nout; m += stride) { ah[m + k] = f.y * aa[m + k]; }
}
#endif

#if ACT_BACKWARD
@group(0) @binding(1) var<storage, read> ba: array<f32>;
@group(0) @binding(2) var<storage, read> bdh: array<f32>;
@group(0) @binding(3) var<storage, read_write> bda: array<f32>;

@compute @workgroup_size(WG)
fn act_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= p.primal * p.nout) { return; }
  let f = act3(ba[k]);
  var g = bdh[k] * f.y;
  let stride = p.primal * p.nout;
  for (var m = stride; m < p.rows * p.nout; m += stride) {
    g += bdh[m + k] * f.z * ba[m + k];
    bda[m + k] = bdh[m + k] * f.y;
  }
  bda[k] = g;
}
#endif

#if DX
@group(0) @binding(1) var<storage, read> xdy: array<f32>;
@group(0) @binding(2) var<storage, read> xw: array<f32>;
@group(0) @binding(3) var<storage, read_write> xdx: array<f32>;

@compute @workgroup_size(WG)
fn dense_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= p.rows * p.nin) { return; }
  let r = k / p.nin;
  let i = k % p.nin;
  var acc = 0.0;
  for (var o = 0u; o < p.nout; o++) { acc += xdy[r * p.nout + o] * xw[weight(o, i)]; }
  xdx[k] = acc;
}
#endif

#if DW
@group(0) @binding(1) var<storage, read> wdy: array<f32>;
@group(0) @binding(2) var<storage, read> wx: array<f32>;
@group(0) @binding(3) var<storage, read_write> wdw: array<f32>;

@compute @workgroup_size(WG)
fn dense_dw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat_index(gid, nwg);
  if (e >= p.nout * p.nin) { return; }
#if TRANSPOSED
  let i = e / p.nout;
  let o = e % p.nout;
#else
  let o = e / p.nin;
  let i = e % p.nin;
#endif
  var acc = 0.0;
  for (var r = 0u; r < p.rows; r++) { acc += wdy[r * p.nout + o] * wx[r * p.nin + i]; }
#if ACCUMULATE
  wdw[e] = wdw[e] + acc;
#else
  wdw[e] = acc;
#endif
}
#endif

#if DB
@group(0) @binding(1) var<storage, read> bdy: array<f32>;
@group(0) @binding(2) var<storage, read_write> bdb: array<f32>;

@compute @workgroup_size(WG)
fn dense_db(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = flat_index(gid, nwg);
  if (o >= p.nout) { return; }
  var acc = 0.0;
  for (var r = 0u; r < p.primal; r++) { acc += bdy[r * p.nout + o]; }
  bdb[o] = acc;
}
#endif
