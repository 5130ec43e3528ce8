// Variant 'rows' (the 'lanes' variant is attention_lanes.wgsl).
// Scaled dot-product self-attention over the L = h*w positions of a feature map, per sample and head:
//   o_i = sum_j P_ij v_j,  P_ij = softmax_j(scale * q_i . k_j),  lse_i = log sum_j exp(scale * q_i . k_j)
// and its backward (P recomputed from the saved lse; D_i = dO_i . o_i; dS_ij = P_ij (dO_i . v_j - D_i)):
//   dq_i = scale sum_j dS_ij k_j,  dk_j = scale sum_i dS_ij q_i,  dv_j = sum_i P_ij dO_i.
//
// Layouts (channel-major, as a 1x1 convolution writes them; no transposes): a q/k/v/o tensor holds
// channels [n, C, L]; head h uses channels h*d .. h*d+d-1 (d = C / heads). Element (b, h, t, i) of
// operand X is at  X.off + b * X.bstride + (h * d + t) * L + i.  The offsets and batch strides let q, k
// and v be three separate [n, c, L] tensors or one packed [n, 3c, L] QKV tensor (off = 0, cL, 2cL;
// bstride = 3cL). o and lse are plain: o [n, c, L], lse/delta [n, heads, L].
// Bindings: see each entry's group; 0 is always the Params uniform.
// Workgroups: forward, attn_dq and attn_dkv run one workgroup per (row i or j, b * heads + h):
// num_workgroups = (L, n * heads). attn_delta: grid1d(n * heads * L, WG).
// Row scores live in workgroup memory (MAXL >= L), the row's own vectors too (MAXD >= d).

override WG: u32 = 64;

override MAXL: u32 = 256;
override MAXD: u32 = 64;

#include grid
#include workgroup_reduce

struct Params {
  heads: u32, d: u32, L: u32, rows: u32,       // rows = n * heads * L (attn_delta)
  q_off: u32, k_off: u32, v_off: u32, o_off: u32,
  q_bs: u32, k_bs: u32, v_bs: u32, o_bs: u32,  // batch strides (elements)
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

var<workgroup> row_a: array<f32, MAXD>;
var<workgroup> row_b: array<f32, MAXD>;
var<workgroup> sc: array<f32, MAXL>;
var<workgroup> sc2: array<f32, MAXL>;

// Base element of head `bh` (= b * heads + h) in an operand with the given offset and batch stride.
fn head_base(off: u32, bs: u32, bh: u32) -> u32 {
  let b = bh / p.heads;
  let h = bh % p.heads;
  return off + b * bs + h * p.d * p.L;
}

#if FORWARD
// Bindings: 1 q, 2 k, 3 v (read; may be one packed buffer), 4 o (rw), 5 lse (rw).
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> o: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

// o[:, i] and lse[i] of query i (workgroup x) for head workgroup y.
@compute @workgroup_size(WG)
fn attn_forward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x;
  let bh = wid.y;
  let L = p.L;
  let qb = head_base(p.q_off, p.q_bs, bh);
  let kb = head_base(p.k_off, p.k_bs, bh);
  let vb = head_base(p.v_off, p.v_bs, bh);
  for (var t = lid; t < p.d; t += WG) { row_a[t] = q[qb + t * L + i] * p.scale; }
  workgroupBarrier();
  var m = -3.0e38;
  for (var j = lid; j < L; j += WG) {
    var s = 0.0;
    for (var t = 0u; t < p.d; t++) { s += row_a[t] * k[kb + t * L + j]; }
    sc[j] = s;
    m = max(m, s);
  }
  let mx = workgroup_max(lid, m);
  var z = 0.0;
  for (var j = lid; j < L; j += WG) {
    let e = exp(sc[j] - mx);
    sc[j] = e;
    z += e;
  }
  let total = workgroup_sum(lid, z); // also orders the sc[] writes before the reads below
  let inv = 1.0 / total;
  let ob = head_base(p.o_off, p.o_bs, bh);
  for (var t = lid; t < p.d; t += WG) {
    var acc = 0.0;
    for (var j = 0u; j < L; j++) { acc += sc[j] * v[vb + t * L + j]; }
    o[ob + t * L + i] = acc * inv;
  }
  if (lid == 0u) { lse[bh * L + i] = mx + log(total); }
}
#endif

#if DELTA
// Bindings: 1 o (read), 2 dO (read), 3 delta (rw) [n, heads, L].
@group(0) @binding(1) var<storage, read> o_in: array<f32>;
@group(0) @binding(2) var<storage, read> d_o: array<f32>;
@group(0) @binding(3) var<storage, read_write> delta: array<f32>;

// delta[bh, i] = sum_t dO[bh, t, i] * o[bh, t, i]  (o and dO share the o layout).
@compute @workgroup_size(WG)
fn attn_delta(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_index(gid, nwg);
  if (r >= p.rows) { return; }
  let bh = r / p.L;
  let i = r % p.L;
  let ob = head_base(p.o_off, p.o_bs, bh);
  var s = 0.0;
  for (var t = 0u; t < p.d; t++) { s += o_in[ob + t * p.L + i] * d_o[ob + t * p.L + i]; }
  delta[r] = s;
}
#endif

#if BACKWARD
// Bindings: 1 q, 2 k, 3 v (read), 4 dO (read, o layout), 5 lse (read), 6 delta (read),
// attn_dq: 7 dq (rw, q layout);  attn_dkv: 7 dk (rw, k layout), 8 dv (rw, v layout), or with
// KV_SHARED 7 dkv (rw) holding both (a packed dQKV tensor: dk and dv are ranges of one buffer,
// which WebGPU forbids binding twice as writable).
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> d_o: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> delta: array<f32>;
#if DQ
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;
#elif KV_SHARED
@group(0) @binding(7) var<storage, read_write> dkv: array<f32>;
fn store_dk(idx: u32, x: f32) { dkv[idx] = x; }
fn store_dv(idx: u32, x: f32) { dkv[idx] = x; }
#else
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;
fn store_dk(idx: u32, x: f32) { dk[idx] = x; }
fn store_dv(idx: u32, x: f32) { dv[idx] = x; }
#endif

#if DQ
// dq[:, i] for query i: sc[j] = dS_ij, then dq_i = scale * sum_j dS_ij k_j. dq uses the q layout.
@compute @workgroup_size(WG)
fn attn_dq(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x;
  let bh = wid.y;
  let L = p.L;
  let qb = head_base(p.q_off, p.q_bs, bh);
  let kb = head_base(p.k_off, p.k_bs, bh);
  let vb = head_base(p.v_off, p.v_bs, bh);
  let ob = head_base(p.o_off, p.o_bs, bh);
  for (var t = lid; t < p.d; t += WG) {
    row_a[t] = q[qb + t * L + i] * p.scale;
    row_b[t] = d_o[ob + t * L + i];
  }
  workgroupBarrier();
  let l = lse[bh * L + i];
  let dlt = delta[bh * L + i];
  for (var j = lid; j < L; j += WG) {
    var s = 0.0;
    var dp = 0.0;
    for (var t = 0u; t < p.d; t++) {
      s += row_a[t] * k[kb + t * L + j];
      dp += row_b[t] * v[vb + t * L + j];
    }
    sc[j] = exp(s - l) * (dp - dlt);
  }
  workgroupBarrier();
  for (var t = lid; t < p.d; t += WG) {
    var acc = 0.0;
    for (var j = 0u; j < L; j++) { acc += sc[j] * k[kb + t * L + j]; }
    dq[qb + t * L + i] = acc * p.scale;
  }
}
#else
// dk[:, j] and dv[:, j] for key j: sc[i] = P_ij, sc2[i] = dS_ij, then dv_j = sum_i P_ij dO_i and
// dk_j = scale * sum_i dS_ij q_i. dk uses the k layout, dv the v layout.
@compute @workgroup_size(WG)
fn attn_dkv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x;
  let bh = wid.y;
  let L = p.L;
  let qb = head_base(p.q_off, p.q_bs, bh);
  let kb = head_base(p.k_off, p.k_bs, bh);
  let vb = head_base(p.v_off, p.v_bs, bh);
  let ob = head_base(p.o_off, p.o_bs, bh);
  for (var t = lid; t < p.d; t += WG) {
    row_a[t] = k[kb + t * L + j] * p.scale;
    row_b[t] = v[vb + t * L + j];
  }
  workgroupBarrier();
  for (var i = lid; i < L; i += WG) {
    var s = 0.0;
    var dp = 0.0;
    for (var t = 0u; t < p.d; t++) {
      s += row_a[t] * q[qb + t * L + i];
      dp += row_b[t] * d_o[ob + t * L + i];
    }
    let pr = exp(s - lse[bh * L + i]);
    sc[i] = pr;
    sc2[i] = pr * (dp - delta[bh * L + i]);
  }
  workgroupBarrier();
  for (var t = lid; t < p.d; t += WG) {
    var av = 0.0;
    var ak = 0.0;
    for (var i = 0u; i < L; i++) {
      av += sc[i] * d_o[ob + t * L + i];
      ak += sc2[i] * q[qb + t * L + i];
    }
    store_dv(vb + t * L + j, av);
    store_dk(kb + t * L + j, ak * p.scale);
  }
}
#endif
#endif
