// Matrix multiply for CPU software adapters (lavapipe, SwiftShader): C[b] = A[b] @ B[b], float32.
// Register-blocked: each invocation computes a TM x TN block of C in registers, loading B along N
// as vec4; no workgroup memory and no barriers (a software adapter pays for every barrier, and shares
// nothing faster than its L1 cache between invocations anyway).
//
// Layouts (element strides in params, so the host expresses transposes without shader variants):
//   A(m, k) = A[b*batchA + m*rsA + k*ksA]   row-major [M, K]: rsA = K, ksA = 1; A^T stored [K, M]: rsA = 1, ksA = M
//   B(k, n) = B[b*batchB + k*ksB + n*csB]   row-major [K, N]: ksB = N, csB = 1; B^T stored [N, K]: ksB = 1, csB = K
//   C(m, n) = C[b*batchC + m*N + n]         always row-major [M, N]
//   batchA / batchB = 0 broadcasts one matrix over the batch.
// Flags: B_VEC4 - B row-major with N % 4 == 0 (and batchB % 4 == 0): B bound as array<vec4f>, one vec4
//          load per 4 columns; else four scalar loads.
//        BLOCK8 - 8 x 8 per invocation (16 vec4 accumulators); else 4 x 4.
// Written out without private arrays: SwiftShader keeps a dynamically indexed private array in memory
// (about 8x slower at 256^3, bench/matmul), while lavapipe unrolls either form.
// Out-of-range rows and columns are clamped to the last valid one before the K loop (their results are
// never stored), so the loop itself has no bounds checks for any shape.
// Bindings: 0 params, 1 A (read), 2 B (read), 3 C (rw).
// Dispatch: [ceil(N / (TN*WX)), ceil(M / (TM*WY)), batch].

override WX: u32 = 8;
override WY: u32 = 8;

#if BLOCK8
const TM = 8u;
const TN = 8u;
#else
const TM = 4u;
const TN = 4u;
#endif

struct Params { M: u32, N: u32, K: u32, rsA: u32, ksA: u32, ksB: u32, csB: u32, batchA: u32, batchB: u32, batchC: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
#if B_VEC4
@group(0) @binding(2) var<storage, read> B: array<vec4f>;
#else
@group(0) @binding(2) var<storage, read> B: array<f32>;
#endif
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

// Offset of row m (clamped to the matrix) of A in batch b.
fn rowA(b: u32, m: u32) -> u32 { return b * p.batchA + min(m, p.M - 1u) * p.rsA; }

#if B_VEC4
// Index of the vec4 holding columns n..n+3 (clamped) in batch b; add k * N / 4 for row k.
fn colB4(b: u32, n: u32) -> u32 { return (b * p.batchB) / 4u + min(n / 4u, p.N / 4u - 1u); }
#else
// Offset of column n (clamped) of B in batch b; add k * ksB for row k.
fn colB(b: u32, n: u32) -> u32 { return b * p.batchB + min(n, p.N - 1u) * p.csB; }
#endif

// C[m, n..n+3] = v, skipping rows and columns outside the matrix.
fn storeC(base: u32, m: u32, n: u32, v: vec4f) {
  if (m >= p.M) { return; }
  let o = base + m * p.N + n;
  if (n + 3u < p.N) {
    C[o] = v.x; C[o + 1u] = v.y; C[o + 2u] = v.z; C[o + 3u] = v.w;
  } else {
    if (n < p.N) { C[o] = v.x; }
    if (n + 1u < p.N) { C[o + 1u] = v.y; }
    if (n + 2u < p.N) { C[o + 2u] = v.z; }
  }
}

// C block at rows gid.y*TM.., columns gid.x*TN.. of batch gid.z = A @ B over the full K.
@compute @workgroup_size(WX, WY)
fn matmul_regblock(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * TM;
  let n0 = gid.x * TN;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let b = gid.z;

  let r0 = rowA(b, m0 + 0u);
  let r1 = rowA(b, m0 + 1u);
  let r2 = rowA(b, m0 + 2u);
  let r3 = rowA(b, m0 + 3u);
#if BLOCK8
  let r4 = rowA(b, m0 + 4u);
  let r5 = rowA(b, m0 + 5u);
  let r6 = rowA(b, m0 + 6u);
  let r7 = rowA(b, m0 + 7u);
#endif
#if B_VEC4
  let s0 = colB4(b, n0);
#if BLOCK8
  let s1 = colB4(b, n0 + 4u);
#endif
  let N4 = p.N / 4u;
#else
  let s0 = colB(b, n0 + 0u);
  let s1 = colB(b, n0 + 1u);
  let s2 = colB(b, n0 + 2u);
  let s3 = colB(b, n0 + 3u);
#if BLOCK8
  let s4 = colB(b, n0 + 4u);
  let s5 = colB(b, n0 + 5u);
  let s6 = colB(b, n0 + 6u);
  let s7 = colB(b, n0 + 7u);
#endif
#endif
  // c<i>: row i, columns 0..3 of the block; d<i>: row i, columns 4..7 (BLOCK8).
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
#if BLOCK8
  var c4 = vec4f(0.0);
  var c5 = vec4f(0.0);
  var c6 = vec4f(0.0);
  var c7 = vec4f(0.0);
  var d0 = vec4f(0.0);
  var d1 = vec4f(0.0);
  var d2 = vec4f(0.0);
  var d3 = vec4f(0.0);
  var d4 = vec4f(0.0);
  var d5 = vec4f(0.0);
  var d6 = vec4f(0.0);
  var d7 = vec4f(0.0);
#endif
  for (var k = 0u; k < p.K; k++) {
#if B_VEC4
    let kb = k * N4;
    let b0 = B[kb + s0];
#if BLOCK8
    let b1 = B[kb + s1];
#endif
#else
    let kb = k * p.ksB;
    let b0 = vec4f(B[kb + s0], B[kb + s1], B[kb + s2], B[kb + s3]);
#if BLOCK8
    let b1 = vec4f(B[kb + s4], B[kb + s5], B[kb + s6], B[kb + s7]);
#endif
#endif
    let ka = k * p.ksA;
    let a0 = vec4f(A[r0 + ka]);
    let a1 = vec4f(A[r1 + ka]);
    let a2 = vec4f(A[r2 + ka]);
    let a3 = vec4f(A[r3 + ka]);
    c0 = fma(a0, b0, c0);
    c1 = fma(a1, b0, c1);
    c2 = fma(a2, b0, c2);
    c3 = fma(a3, b0, c3);
#if BLOCK8
    let a4 = vec4f(A[r4 + ka]);
    let a5 = vec4f(A[r5 + ka]);
    let a6 = vec4f(A[r6 + ka]);
    let a7 = vec4f(A[r7 + ka]);
    c4 = fma(a4, b0, c4);
    c5 = fma(a5, b0, c5);
    c6 = fma(a6, b0, c6);
    c7 = fma(a7, b0, c7);
    d0 = fma(a0, b1, d0);
    d1 = fma(a1, b1, d1);
    d2 = fma(a2, b1, d2);
    d3 = fma(a3, b1, d3);
    d4 = fma(a4, b1, d4);
    d5 = fma(a5, b1, d5);
    d6 = fma(a6, b1, d6);
    d7 = fma(a7, b1, d7);
#endif
  }
  let base = b * p.batchC;
  storeC(base, m0 + 0u, n0, c0);
  storeC(base, m0 + 1u, n0, c1);
  storeC(base, m0 + 2u, n0, c2);
  storeC(base, m0 + 3u, n0, c3);
#if BLOCK8
  storeC(base, m0 + 4u, n0, c4);
  storeC(base, m0 + 5u, n0, c5);
  storeC(base, m0 + 6u, n0, c6);
  storeC(base, m0 + 7u, n0, c7);
  storeC(base, m0 + 0u, n0 + 4u, d0);
  storeC(base, m0 + 1u, n0 + 4u, d1);
  storeC(base, m0 + 2u, n0 + 4u, d2);
  storeC(base, m0 + 3u, n0 + 4u, d3);
  storeC(base, m0 + 4u, n0 + 4u, d4);
  storeC(base, m0 + 5u, n0 + 4u, d5);
  storeC(base, m0 + 6u, n0 + 4u, d6);
  storeC(base, m0 + 7u, n0 + 4u, d7);
#endif
}
