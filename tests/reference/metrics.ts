// float64 references for the quality metrics, written with other algorithms than src/eval/metrics.ts
// so that the two check each other: a one-pass covariance, tr sqrt(S_a S_b) by the Denman-Beavers
// iteration on the (non-symmetric) product, k-NN radii by sorting every distance, coverage from plain
// Euclidean distances.

export function gaussianFitRef(rows: ArrayLike<number>, dim: number): { mean: Float64Array; cov: Float64Array } {
  const n = rows.length / dim;
  const mean = new Float64Array(dim);
  const sxx = new Float64Array(dim * dim);
  for (let r = 0; r < n; r++)
    for (let i = 0; i < dim; i++) {
      mean[i]! += rows[r * dim + i]! / n;
      for (let j = 0; j < dim; j++) sxx[i * dim + j]! += rows[r * dim + i]! * rows[r * dim + j]!;
    }
  const cov = sxx.map((v, ij) => (v - n * mean[Math.floor(ij / dim)]! * mean[ij % dim]!) / (n - 1));
  return { mean, cov };
}

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) c[i * n + j]! += a[i * n + k]! * b[k * n + j]!;
  return c;
}

/** Inverse by Gauss-Jordan elimination with partial pivoting. */
export function inverseRef(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[piv * n + col]!)) piv = r;
    for (const t of [m, inv])
      for (let k = 0; k < n; k++) {
        const x = t[col * n + k]!;
        t[col * n + k] = t[piv * n + k]!;
        t[piv * n + k] = x;
      }
    const d = m[col * n + col]!;
    for (const t of [m, inv]) for (let k = 0; k < n; k++) t[col * n + k]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r * n + col]!;
      if (f === 0) continue;
      for (const t of [m, inv]) for (let k = 0; k < n; k++) t[r * n + k]! -= f * t[col * n + k]!;
    }
  }
  return inv;
}

/** tr sqrtm(P) by the Denman-Beavers iteration Y <- (Y + Z^-1) / 2, Z <- (Z + Y^-1) / 2 (P non-singular). */
export function traceSqrtRef(p: Float64Array, n: number, iterations = 60): number {
  let y = Float64Array.from(p);
  let z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;
  for (let it = 0; it < iterations; it++) {
    const yi = inverseRef(y, n);
    const zi = inverseRef(z, n);
    y = y.map((v, i) => 0.5 * (v + zi[i]!));
    z = z.map((v, i) => 0.5 * (v + yi[i]!));
  }
  let t = 0;
  for (let i = 0; i < n; i++) t += y[i * n + i]!;
  return t;
}

export function frechetRef(a: { mean: Float64Array; cov: Float64Array }, b: { mean: Float64Array; cov: Float64Array }, n: number): number {
  let d = 0;
  for (let i = 0; i < n; i++) d += (a.mean[i]! - b.mean[i]!) ** 2 + a.cov[i * n + i]! + b.cov[i * n + i]!;
  return d - 2 * traceSqrtRef(matmul(a.cov, b.cov, n), n);
}

function dist(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number, dim: number): number {
  let s = 0;
  for (let q = 0; q < dim; q++) s += (a[i * dim + q]! - b[j * dim + q]!) ** 2;
  return Math.sqrt(s);
}

export function precisionRecallRef(real: ArrayLike<number>, fake: ArrayLike<number>, dim: number, k: number): { precision: number; recall: number } {
  const radii = (x: ArrayLike<number>) => {
    const n = x.length / dim;
    return Array.from({ length: n }, (_, i) => {
      const d: number[] = [];
      for (let j = 0; j < n; j++) if (j !== i) d.push(dist(x, i, x, j, dim));
      return d.sort((p, q) => p - q)[k - 1]!;
    });
  };
  const covered = (pts: ArrayLike<number>, centres: ArrayLike<number>, r: number[]) => {
    const n = pts.length / dim;
    let c = 0;
    for (let i = 0; i < n; i++) if (r.some((ri, j) => dist(pts, i, centres, j, dim) <= ri)) c++;
    return c / n;
  };
  return { precision: covered(fake, real, radii(real)), recall: covered(real, fake, radii(fake)) };
}

export function classStatisticsRef(probs: ArrayLike<number>, k: number): { histogram: number[]; entropy: number; confidence: number } {
  const n = probs.length / k;
  const histogram = new Array<number>(k).fill(0);
  let confidence = 0;
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: k }, (_, c) => probs[i * k + c]!);
    const max = Math.max(...row);
    histogram[row.indexOf(max)]!++;
    confidence += max / n;
  }
  const entropy = -histogram.reduce((h, c) => (c ? h + (c / n) * Math.log2(c / n) : h), 0) / Math.log2(k);
  return { histogram, entropy, confidence };
}
