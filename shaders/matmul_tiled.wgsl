// Matrix multiply for GPUs: C[b] = A[b] @ B[b], float32, shared-memory tiled.
// A 16 x 16 workgroup computes a 64 x 64 tile of C; each invocation a 4 x 4 block (rows ty + 16 i,
// columns tx + 16 j, so that neighbouring invocations read neighbouring shared-memory words). The K
// dimension is walked in slices of 16: the workgroup stages A[64 x 16] and B[16 x 64] in workgroup
// memory (zero-filled outside the matrices, so any shape works), then every invocation reads them
// 16 times instead of global memory.
//
// Layouts (element strides in params; transposes are strides, see matmul_regblock.wgsl):
//   A(m, k) = A[b*batchA + m*rsA + k*ksA], B(k, n) = B[b*batchB + k*ksB + n*csB], C(m, n) = C[b*batchC + m*N + n]
// Bindings: 0 params, 1 A (read), 2 B (read), 3 C (rw).
// Dispatch: [ceil(N / 64), ceil(M / 64), batch].

const TILE = 64u;
const BK = 16u;
const WG = 16u;

struct Params { M: u32, N: u32, K: u32, rsA: u32, ksA: u32, ksB: u32, csB: u32, batchA: u32, batchB: u32, batchC: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

var<workgroup> As: array<f32, BK * TILE>; // [k][m]
var<workgroup> Bs: array<f32, BK * TILE>; // [k][n]

// C tile at rows wid.y*64.., columns wid.x*64.. of batch wid.z = A @ B over the full K.
@compute @workgroup_size(WG, WG)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let baseA = wid.z * p.batchA;
  let baseB = wid.z * p.batchB;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // 256 invocations stage 1024 elements of each operand, 4 each. A is read with k fastest
    // (coalesced for row-major A), B with n fastest (coalesced for row-major B).
    for (var l = 0u; l < 4u; l++) {
      let e = li + l * WG * WG;
      let am = e / BK;
      let ak = e % BK;
      let m = m0 + am;
      let ka = k0 + ak;
      As[ak * TILE + am] = select(0.0, A[baseA + m * p.rsA + ka * p.ksA], m < p.M && ka < p.K);
      let bk = e / TILE;
      let bn = e % TILE;
      let n = n0 + bn;
      let kb = k0 + bk;
      Bs[bk * TILE + bn] = select(0.0, B[baseB + kb * p.ksB + n * p.csB], n < p.N && kb < p.K);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[kk * TILE + lid.y + WG * i]; }
      for (var j = 0u; j < 4u; j++) { b[j] = Bs[kk * TILE + lid.x + WG * j]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] = fma(a[i], b[j], acc[i * 4u + j]); }
      }
    }
    workgroupBarrier();
  }
  let baseC = wid.z * p.batchC;
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y + WG * i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x + WG * j;
      if (m < p.M && n < p.N) { C[baseC + m * p.N + n] = acc[i * 4u + j]; }
    }
  }
}
