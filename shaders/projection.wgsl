// Per-position linear maps over channel-major feature maps (a 1x1 convolution; the QKV and output
// projections of attention), as one strided, batched matrix product with shared-memory tiles:
//   C[z, m, c] (+)= sum_k A(z, m, k) B(z, k, c)  (+ bias[m] with HAS_BIAS)
// where operands are addressed through strides, so one kernel does all three products:
//   forward  y[b] = W x[b] + bias      (M = cout, N = L,   K = cin)
//   dx       dx[b] = W^T dy[b]         (M = cin,  N = L,   K = cout; ACCUMULATE adds into dx)
//   dW       dW = sum_b dy[b] x[b]^T   (M = cout, N = cin, K = n*L: k = (b, l) with k_in = L)
// The K index splits as k = ko * k_in + ki, so a reduction can run over (sample, position) pairs.
//   A(z, m, k) = a[z*a_z + m*a_m + ko*a_ko + ki*a_ki],  B(z, k, c) = b[z*b_z + c*b_n + ko*b_ko + ki*b_ki]
//   C(z, m, c) = out[z*c_z + m*c_m + c]
// Bindings: 0 Params, 1 a (read), 2 b (read), 3 bias (read; bind anything without HAS_BIAS), 4 out (rw).
// Variants: matmul (shared-memory T x T tiles, GPUs): (ceil(N / T), ceil(M / T), Z) workgroups of T x T;
// matmul_direct (no workgroup memory or barriers: CPU adapters): (ceil(N / 64), M, Z) workgroups of 64,
// lanes along the output column, so A is read at one address by all lanes and B contiguously.
// K = k_out * k_in exactly. Entry bias_grad: db[m] (below); grid1d(M, 64).

override T: u32 = 16;

struct Params {
  M: u32, N: u32, K: u32, k_in: u32,   // K = k_out * k_in
  a_z: u32, a_m: u32, a_ko: u32, a_ki: u32,
  b_z: u32, b_n: u32, b_ko: u32, b_ki: u32,
  c_z: u32, c_m: u32, Z: u32, pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> ta: array<f32, T * T>;
var<workgroup> tb: array<f32, T * T>;

fn a_at(z: u32, m: u32, k: u32) -> f32 {
  return a[z * p.a_z + m * p.a_m + (k / p.k_in) * p.a_ko + (k % p.k_in) * p.a_ki];
}
fn b_at(z: u32, k: u32, c: u32) -> f32 {
  return b[z * p.b_z + c * p.b_n + (k / p.k_in) * p.b_ko + (k % p.k_in) * p.b_ki];
}

// One C element per invocation: row m = wid.y*T + ly, column c = wid.x*T + lx, batch z = wid.z.
@compute @workgroup_size(T, T)
fn matmul(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let z = wid.z;
  let m = wid.y * T + lid.y;
  let c = wid.x * T + lid.x;
  let m_load = wid.y * T + lid.x; // A tile is loaded transposed-free: thread (x, y) loads A(m0 + x, k0 + y)
  var acc = 0.0;
  for (var k0 = 0u; k0 < p.K; k0 += T) {
    let ka = k0 + lid.y;
    ta[lid.y * T + lid.x] = select(0.0, a_at(z, m_load, ka), m_load < p.M && ka < p.K);
    tb[lid.y * T + lid.x] = select(0.0, b_at(z, ka, c), c < p.N && ka < p.K);
    workgroupBarrier();
    for (var kk = 0u; kk < T; kk++) { acc += ta[kk * T + lid.y] * tb[kk * T + lid.x]; }
    workgroupBarrier();
  }
  if (m >= p.M || c >= p.N) { return; }
  let o = z * p.c_z + m * p.c_m + c;
#if HAS_BIAS
  acc += bias[m];
#endif
#if ACCUMULATE
  acc += out[o];
#endif
  out[o] = acc;
}

// The same C element as matmul, by one invocation over all of K (lanes along the column c).
@compute @workgroup_size(64)
fn matmul_direct(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let z = wid.z;
  let m = wid.y;
  let c = wid.x * 64u + lid;
  if (c >= p.N) { return; }
  let k_out = p.K / p.k_in;
  var acc = 0.0;
  for (var ko = 0u; ko < k_out; ko++) {
    let ab = z * p.a_z + m * p.a_m + ko * p.a_ko;
    let bb = z * p.b_z + c * p.b_n + ko * p.b_ko;
    for (var ki = 0u; ki < p.k_in; ki++) { acc += a[ab + ki * p.a_ki] * b[bb + ki * p.b_ki]; }
  }
  let o = z * p.c_z + m * p.c_m + c;
#if HAS_BIAS
  acc += bias[m];
#endif
#if ACCUMULATE
  acc += out[o];
#endif
  out[o] = acc;
}

// db[m] = sum_z sum_c dy[z * c_z + m * c_m + c] for c < N: the bias gradient of y = W x + bias (a = dy).
@compute @workgroup_size(64)
fn bias_grad(@builtin(global_invocation_id) gid: vec3u) {
  let m = gid.x;
  if (m >= p.M) { return; }
  var s = 0.0;
  for (var z = 0u; z < p.Z; z++) {
    for (var c = 0u; c < p.N; c++) { s += a[z * p.c_z + m * p.c_m + c]; }
  }
  out[m] = s;
}
