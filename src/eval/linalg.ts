// Dense symmetric linear algebra in float64 on the host, for the Fréchet distance: the eigen-
// decomposition of a symmetric matrix by cyclic Jacobi rotations. Jacobi is slow for large matrices
// (O(n^3) per sweep, ~10 sweeps) but at the 64 to a few hundred dimensions of classifier features it
// takes milliseconds, and it is accurate to a few ulps of the matrix norm even for the nearly singular
// covariances of small sample sets, where an iterative matrix square root can stall or go complex.
import { ValueError } from '../gpu/errors.ts';

export interface SymmetricEigen {
  /** Eigenvalues (unsorted). */
  values: Float64Array;
  /** Eigenvectors as columns: vectors[i * n + k] is component i of vector k. */
  vectors: Float64Array;
}

/** Eigenvalues and eigenvectors of the symmetric n x n matrix `a` (row-major; only read, not changed). */
export function symmetricEigen(a: ArrayLike<number>, n: number, opts: { maxSweeps?: number } = {}): SymmetricEigen {
  if (a.length !== n * n) throw new ValueError(`symmetricEigen: ${a.length} values is not a ${n} x ${n} matrix.`);
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let norm = 0;
  for (let i = 0; i < n * n; i++) norm += m[i]! * m[i]!;
  const tol = 1e-30 + norm * 1e-30; // off-diagonal mass (squared) below which the matrix is diagonal
  const maxSweeps = opts.maxSweeps ?? 60;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! ** 2;
    if (off <= tol) break;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        const app = m[p * n + p]!;
        const aqq = m[q * n + q]!;
        // The rotation that zeroes a_pq: t = tan(angle), the smaller root for stability.
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // columns p and q
          const mkp = m[k * n + p]!;
          const mkq = m[k * n + q]!;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          // rows p and q
          const mpk = m[p * n + k]!;
          const mqk = m[q * n + k]!;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        m[p * n + q] = 0;
        m[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => m[i * n + i]!), vectors: v };
}

/** The symmetric positive semi-definite square root V diag(sqrt(max(l, 0))) V^T. */
export function psdSqrt(a: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n);
  const r = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(values[k]!, 0));
    if (s === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k]! * s;
      for (let j = 0; j < n; j++) r[i * n + j]! += vik * vectors[j * n + k]!;
    }
  }
  return r;
}

/** C = A B for n x n row-major matrices. */
export function matmulSquare(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j]! += aik * b[k * n + j]!;
    }
  return c;
}
