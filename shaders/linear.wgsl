// Dense layer for small sizes (the time-embedding MLP: n = batch <= 64, in/out <= 512), float32:
//   linear_forward: y[r, o] = b[o] + sum_i x[r, i] w[o, i]      (HAS_BIAS; one invocation per (r, o))
//   linear_dx:      dx[r, i] (=|+=) sum_o dy[r, o] w[o, i]      (ACCUMULATE; one invocation per (r, i))
//   linear_dw:      dw[o, i] = sum_r dy[r, o] x[r, i]           (one invocation per (o, i))
//   linear_db:      db[o] = sum_r dy[r, o]                      (one invocation per o)
// Layouts (PyTorch): x [n, in], w [out, in], b [out], y [n, out].
// Bindings (binding i = i-th resource):
//   linear_forward: 0 params, 1 x, 2 w, 3 b (read; bind w when there is no bias), 4 y (rw)
//   linear_dx:      0 params, 1 dy, 2 w, 3 dx (rw)
//   linear_dw:      0 params, 1 dy, 2 x, 3 dw (rw)
//   linear_db:      0 params, 1 dy, 2 db (rw)
// Params {n, nin, nout}. Flat index = gid.x + gid.y * nwg.x * WG.

override WG: u32 = 64;

struct Params { n: u32, nin: u32, nout: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out4: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// y = x w^T (+ b).
@compute @workgroup_size(WG)
fn linear_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat(gid, nwg);
  if (k >= p.n * p.nout) { return; }
  let r = k / p.nout;
  let o = k % p.nout;
  var acc = 0.0;
  for (var i = 0u; i < p.nin; i++) { acc += in1[r * p.nin + i] * in2[o * p.nin + i]; }
#if HAS_BIAS
  acc += bias[o];
#endif
  out4[k] = acc;
}

// dx = dy w (added into dx with ACCUMULATE).
@compute @workgroup_size(WG)
fn linear_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat(gid, nwg);
  if (k >= p.n * p.nin) { return; }
  let r = k / p.nin;
  let i = k % p.nin;
  var acc = 0.0;
  for (var o = 0u; o < p.nout; o++) { acc += in1[r * p.nout + o] * in2[o * p.nin + i]; }
#if ACCUMULATE
  out3[k] = out3[k] + acc;
#else
  out3[k] = acc;
#endif
}

// dw = dy^T x.
@compute @workgroup_size(WG)
fn linear_dw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat(gid, nwg);
  if (k >= p.nout * p.nin) { return; }
  let o = k / p.nin;
  let i = k % p.nin;
  var acc = 0.0;
  for (var r = 0u; r < p.n; r++) { acc += in1[r * p.nout + o] * in2[r * p.nin + i]; }
  out3[k] = acc;
}

// db = column sums of dy.
@compute @workgroup_size(WG)
fn linear_db(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = flat(gid, nwg);
  if (o >= p.nout) { return; }
  var acc = 0.0;
  for (var r = 0u; r < p.n; r++) { acc += in1[r * p.nout + o]; }
  out2[o] = acc;
}
