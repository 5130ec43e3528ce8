// The 'lanes' variant of shaders/attention.wgsl (same math, Params, layouts and bindings): one
// invocation per query (forward, dq) or per key (dk, dv), a workgroup of WG consecutive rows of one
// head. Every load is either the same address for all lanes (the other side's row j or i) or
// consecutive across lanes (the own row, channel-major), and nothing goes through workgroup memory or
// barriers: what a SIMD CPU adapter (lavapipe, SwiftShader) runs well. The forward uses the online
// softmax (running max and sum, accumulator rescaled when the max grows).
// Head width d <= DMAX: 64, or 256 with the WIDE flag (per-invocation arrays need a constant size).
// Workgroups: (ceil(L / WG), n * heads).

override WG: u32 = 32;
#if WIDE
const DMAX: u32 = 256u;
#else
const DMAX: u32 = 64u;
#endif

struct Params {
  heads: u32, d: u32, L: u32, rows: u32,
  q_off: u32, k_off: u32, v_off: u32, o_off: u32,
  q_bs: u32, k_bs: u32, v_bs: u32, o_bs: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

fn head_base(off: u32, bs: u32, bh: u32) -> u32 {
  let b = bh / p.heads;
  let h = bh % p.heads;
  return off + b * bs + h * p.d * p.L;
}

#if FORWARD
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> o: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

// o[:, i] and lse[i] for query i = wid.x * WG + lid of head wid.y.
@compute @workgroup_size(WG)
fn attn_forward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * WG + lid;
  let bh = wid.y;
  let L = p.L;
  if (i >= L) { return; }
  let qb = head_base(p.q_off, p.q_bs, bh);
  let kb = head_base(p.k_off, p.k_bs, bh);
  let vb = head_base(p.v_off, p.v_bs, bh);
  var qr: array<f32, DMAX>;
  var acc: array<f32, DMAX>;
  for (var t = 0u; t < p.d; t++) {
    qr[t] = q[qb + t * L + i] * p.scale;
    acc[t] = 0.0;
  }
  var m = -3.0e38;
  var z = 0.0;
  for (var j = 0u; j < L; j++) {
    var s = 0.0;
    for (var t = 0u; t < p.d; t++) { s += qr[t] * k[kb + t * L + j]; }
    let mn = max(m, s);
    let corr = exp(m - mn);
    let e = exp(s - mn);
    z = z * corr + e;
    for (var t = 0u; t < p.d; t++) { acc[t] = acc[t] * corr + e * v[vb + t * L + j]; }
    m = mn;
  }
  let ob = head_base(p.o_off, p.o_bs, bh);
  let inv = 1.0 / z;
  for (var t = 0u; t < p.d; t++) { o[ob + t * L + i] = acc[t] * inv; }
  lse[bh * L + i] = m + log(z);
}
#endif

#if BACKWARD
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
// dq[:, i] = scale * sum_j P_ij (dO_i . v_j - delta_i) k_j for query i = wid.x * WG + lid.
@compute @workgroup_size(WG)
fn attn_dq(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * WG + lid;
  let bh = wid.y;
  let L = p.L;
  if (i >= L) { return; }
  let qb = head_base(p.q_off, p.q_bs, bh);
  let kb = head_base(p.k_off, p.k_bs, bh);
  let vb = head_base(p.v_off, p.v_bs, bh);
  let ob = head_base(p.o_off, p.o_bs, bh);
  var qr: array<f32, DMAX>;
  var gr: array<f32, DMAX>;
  var acc: array<f32, DMAX>;
  for (var t = 0u; t < p.d; t++) {
    qr[t] = q[qb + t * L + i] * p.scale;
    gr[t] = d_o[ob + t * L + i];
    acc[t] = 0.0;
  }
  let l = lse[bh * L + i];
  let dlt = delta[bh * L + i];
  for (var j = 0u; j < L; j++) {
    var s = 0.0;
    var dp = 0.0;
    for (var t = 0u; t < p.d; t++) {
      s += qr[t] * k[kb + t * L + j];
      dp += gr[t] * v[vb + t * L + j];
    }
    let ds = exp(s - l) * (dp - dlt);
    for (var t = 0u; t < p.d; t++) { acc[t] += ds * k[kb + t * L + j]; }
  }
  for (var t = 0u; t < p.d; t++) { dq[qb + t * L + i] = acc[t] * p.scale; }
}
#else
// dk[:, j] = scale * sum_i dS_ij q_i and dv[:, j] = sum_i P_ij dO_i for key j = wid.x * WG + lid.
@compute @workgroup_size(WG)
fn attn_dkv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x * WG + lid;
  let bh = wid.y;
  let L = p.L;
  if (j >= L) { return; }
  let qb = head_base(p.q_off, p.q_bs, bh);
  let kb = head_base(p.k_off, p.k_bs, bh);
  let vb = head_base(p.v_off, p.v_bs, bh);
  let ob = head_base(p.o_off, p.o_bs, bh);
  var kr: array<f32, DMAX>;
  var vr: array<f32, DMAX>;
  var ak: array<f32, DMAX>;
  var av: array<f32, DMAX>;
  for (var t = 0u; t < p.d; t++) {
    kr[t] = k[kb + t * L + j] * p.scale;
    vr[t] = v[vb + t * L + j];
    ak[t] = 0.0;
    av[t] = 0.0;
  }
  for (var i = 0u; i < L; i++) {
    var s = 0.0;
    var dp = 0.0;
    for (var t = 0u; t < p.d; t++) {
      s += kr[t] * q[qb + t * L + i];
      dp += vr[t] * d_o[ob + t * L + i];
    }
    let pr = exp(s - lse[bh * L + i]);
    let ds = pr * (dp - delta[bh * L + i]);
    for (var t = 0u; t < p.d; t++) {
      av[t] += pr * d_o[ob + t * L + i];
      ak[t] += ds * q[qb + t * L + i];
    }
  }
  for (var t = 0u; t < p.d; t++) {
    store_dv(vb + t * L + j, av[t]);
    store_dk(kb + t * L + j, ak[t] * p.scale);
  }
}
#endif
#endif
