// Matrix multiply for small outputs with a long inner dimension: C[b] = A[b] @ B[b], float32, where
// M x N is a few tiles and K runs to thousands (the Winograd weight gradient: M, N = channels, K = all
// image tiles of the batch). The register-blocked kernel gives such a product a handful of
// invocations, each looping over all of K. Here a workgroup owns one TM x TN block of C and its WG
// lanes split K among themselves, interleaved (lane l takes k = l, l + WG, ...), so that neighbouring
// lanes read neighbouring addresses of a row-major A and of a transposed B (the case that matters:
// both then run along K in memory); the lanes' partial blocks are summed by a shared-memory tree
// (workgroup_sum_mat4 of shaders/workgroup_reduce.wgsl).
// One dispatch, no scratch, and the sum is exact up to float32 rounding of K products (a tree of
// partial sums: its error bound is below the sequential one).
//
// Layouts (element strides in params, the same Params as shaders/matmul_regblock.wgsl):
//   A(m, k) = A[b*batchA + m*rsA + k*ksA],  B(k, n) = B[b*batchB + k*ksB + n*csB],
//   C(m, n) = C[b*batchC + m*N + n];  batchA / batchB = 0 broadcasts one matrix over the batch.
// Rows and columns past the matrix are clamped to the last one for loading and never stored.
// Bindings: 0 params, 1 A (read), 2 B (read), 3 C (rw).
// Dispatch: [ceil(N / TN), ceil(M / TM), batch] workgroups of WG lanes (WG a power of two).

override WG: u32 = 64;

#include workgroup_reduce

const TM = 4u;
const TN = 4u;

struct Params { M: u32, N: u32, K: u32, rsA: u32, ksA: u32, ksB: u32, csB: u32, batchA: u32, batchB: u32, batchC: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

fn rowA(b: u32, m: u32) -> u32 { return b * p.batchA + min(m, p.M - 1u) * p.rsA; }
fn colB(b: u32, n: u32) -> u32 { return b * p.batchB + min(n, p.N - 1u) * p.csB; }

fn storeRow(base: u32, m: u32, n: u32, v: vec4f) {
  if (m >= p.M) { return; }
  let o = base + m * p.N + n;
  if (n < p.N) { C[o] = v.x; }
  if (n + 1u < p.N) { C[o + 1u] = v.y; }
  if (n + 2u < p.N) { C[o + 2u] = v.z; }
  if (n + 3u < p.N) { C[o + 3u] = v.w; }
}

@compute @workgroup_size(WG)
fn matmul_splitk(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;
  let b = wid.z;
  let r0 = rowA(b, m0);
  let r1 = rowA(b, m0 + 1u);
  let r2 = rowA(b, m0 + 2u);
  let r3 = rowA(b, m0 + 3u);
  let s0 = colB(b, n0);
  let s1 = colB(b, n0 + 1u);
  let s2 = colB(b, n0 + 2u);
  let s3 = colB(b, n0 + 3u);
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var k = lane; k < p.K; k += WG) {
    let kb = k * p.ksB;
    let bv = vec4f(B[kb + s0], B[kb + s1], B[kb + s2], B[kb + s3]);
    let ka = k * p.ksA;
    c0 = fma(vec4f(A[r0 + ka]), bv, c0);
    c1 = fma(vec4f(A[r1 + ka]), bv, c1);
    c2 = fma(vec4f(A[r2 + ka]), bv, c2);
    c3 = fma(vec4f(A[r3 + ka]), bv, c3);
  }
  // Column i of the matrix is row i of the block (columns 0..3 as a vec4).
  let total = workgroup_sum_mat4(lane, mat4x4f(c0, c1, c2, c3));
  if (lane < TM) {
    var t = total;
    storeRow(b * p.batchC, m0 + lane, n0, t[lane]);
  }
}
