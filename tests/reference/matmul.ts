// Float64 reference for matmul: C = op(A) @ op(B), row-major, optionally batched (batch-major
// contiguous arrays; batchA/batchB false broadcasts one matrix). Also the backward pass and the
// per-element rounding bound that the GPU result is tested against.
export interface MatmulRefShape {
  M: number;
  N: number;
  K: number;
  batch?: number;
  transA?: boolean;
  transB?: boolean;
  /** A (or B) has its own matrix per batch entry; false broadcasts a single matrix. */
  batchA?: boolean;
  batchB?: boolean;
}

const at = (s: MatmulRefShape) => ({
  a: (x: ArrayLike<number>, b: number, m: number, k: number) => x[(s.batchA ? b * s.M * s.K : 0) + (s.transA ? k * s.M + m : m * s.K + k)]!,
  b: (x: ArrayLike<number>, b: number, k: number, n: number) => x[(s.batchB ? b * s.K * s.N : 0) + (s.transB ? n * s.K + k : k * s.N + n)]!,
});

/** C[b, m, n] = sum_k op(A)[b, m, k] op(B)[b, k, n]. With `abs`, sums |a||b| (for error bounds). */
export function matmulRef(A: ArrayLike<number>, B: ArrayLike<number>, s: MatmulRefShape, abs = false): Float64Array {
  const { M, N, K } = s;
  const batch = s.batch ?? 1;
  const get = at(s);
  const C = new Float64Array(batch * M * N);
  for (let b = 0; b < batch; b++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const p = get.a(A, b, m, k) * get.b(B, b, k, n);
          acc += abs ? Math.abs(p) : p;
        }
        C[(b * M + m) * N + n] = acc;
      }
  return C;
}

/** dA and dB (in A's and B's stored layouts) for upstream gradient dC; broadcast operands sum over the batch. */
export function matmulBackwardRef(A: ArrayLike<number>, B: ArrayLike<number>, dC: ArrayLike<number>, s: MatmulRefShape): [Float64Array, Float64Array] {
  const { M, N, K } = s;
  const batch = s.batch ?? 1;
  const dA = new Float64Array((s.batchA ? batch : 1) * M * K);
  const dB = new Float64Array((s.batchB ? batch : 1) * K * N);
  const get = at(s);
  for (let b = 0; b < batch; b++)
    for (let m = 0; m < M; m++)
      for (let k = 0; k < K; k++)
        for (let n = 0; n < N; n++) {
          const g = dC[(b * M + m) * N + n]!;
          dA[(s.batchA ? b * M * K : 0) + (s.transA ? k * M + m : m * K + k)] += g * get.b(B, b, k, n);
          dB[(s.batchB ? b * K * N : 0) + (s.transB ? n * K + k : k * N + n)] += g * get.a(A, b, m, k);
        }
  return [dA, dB];
}

/**
 * Float32 rounding bound for a K-term dot product accumulated in any order with fma or separate
 * multiply-add: |C32 - C| <= gamma_K * sum_k |a_k b_k| with gamma_K ~ K * 2^-24 (Higham, Thm 3.5),
 * plus rounding of the float32 inputs that the caller already applied. Returned per element.
 */
export function matmulErrorBound(absProducts: Float64Array, K: number): Float64Array {
  const u = 2 ** -24;
  const gamma = (K * u) / (1 - K * u);
  return absProducts.map((x) => gamma * x + 1e-30);
}
