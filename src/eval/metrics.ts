// The sample-quality metrics, on the host in float64 from features computed on the GPU
// (src/eval/features.ts). Browser-safe.
//   Fréchet distance   between Gaussian fits (mean, covariance) of two feature sets:
//                      |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2)
//                      (the square root through symmetric eigendecompositions, float64)
//   precision, recall  k-nearest-neighbour manifolds (Kynkäänniemi et al. 2019, k = 3): a sample is
//                      "precise" if it lies within the k-NN ball of some reference point; a reference
//                      point is "recalled" if it lies within the k-NN ball of some sample
//   class statistics   histogram of the most probable class, its entropy (normalised by log K: 1 when
//                      every class is equally frequent, 0 when all samples are one class) and the mean
//                      confidence (mean of the largest class probability)
//   diagonal Fréchet   the closed form for Gaussians with diagonal covariances,
//                      |mu_a - mu_b|^2 + sum (sqrt(v_a) - sqrt(v_b))^2, used on DCT coefficients
import { ValueError } from '../gpu/errors.ts';
import { matmulSquare, psdSqrt, symmetricEigen } from './linalg.ts';

export interface GaussianFit {
  dim: number;
  count: number;
  mean: Float64Array;
  /** Unbiased (1 / (count - 1)) covariance, row-major [dim, dim]. */
  cov: Float64Array;
}

/** Mean and covariance of `count` rows of `dim` values (float64 accumulation, two passes). */
export function gaussianFit(rows: ArrayLike<number>, dim: number): GaussianFit {
  if (!Number.isInteger(dim) || dim < 1 || rows.length % dim !== 0) throw new ValueError(`gaussianFit: ${rows.length} values is not a whole number of ${dim}-dimensional rows.`);
  const count = rows.length / dim;
  if (count < 2) throw new ValueError(`A Gaussian fit needs at least 2 samples, got ${count}.`);
  const mean = new Float64Array(dim);
  for (let r = 0; r < count; r++) for (let i = 0; i < dim; i++) mean[i]! += rows[r * dim + i]!;
  for (let i = 0; i < dim; i++) mean[i]! /= count;
  const cov = new Float64Array(dim * dim);
  const c = new Float64Array(dim);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < dim; i++) c[i] = rows[r * dim + i]! - mean[i]!;
    for (let i = 0; i < dim; i++) {
      const ci = c[i]!;
      for (let j = i; j < dim; j++) cov[i * dim + j]! += ci * c[j]!;
    }
  }
  for (let i = 0; i < dim; i++)
    for (let j = i; j < dim; j++) {
      const v = cov[i * dim + j]! / (count - 1);
      cov[i * dim + j] = v;
      cov[j * dim + i] = v;
    }
  return { dim, count, mean, cov };
}

/** Fréchet (2-Wasserstein squared) distance between two Gaussian fits. */
export function frechetDistance(a: GaussianFit, b: GaussianFit): number {
  if (a.dim !== b.dim) throw new ValueError(`Fréchet distance between ${a.dim}- and ${b.dim}-dimensional fits.`);
  const n = a.dim;
  let meanTerm = 0;
  let trace = 0;
  for (let i = 0; i < n; i++) {
    meanTerm += (a.mean[i]! - b.mean[i]!) ** 2;
    trace += a.cov[i * n + i]! + b.cov[i * n + i]!;
  }
  // tr sqrt(S_a S_b) = tr sqrt(R S_b R) with R = S_a^1/2: a symmetric PSD matrix, so its eigenvalues are
  // real and non-negative (rounding can leave tiny negatives; they count as 0).
  const r = psdSqrt(a.cov, n);
  const m = matmulSquare(matmulSquare(r, b.cov, n), r, n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const s = 0.5 * (m[i * n + j]! + m[j * n + i]!);
      m[i * n + j] = s;
      m[j * n + i] = s;
    }
  let traceSqrt = 0;
  for (const l of symmetricEigen(m, n).values) traceSqrt += Math.sqrt(Math.max(l, 0));
  return Math.max(0, meanTerm + trace - 2 * traceSqrt);
}

/** |mu_a - mu_b|^2 + sum_q (sqrt(v_a[q]) - sqrt(v_b[q]))^2: Fréchet distance of diagonal Gaussians. */
export function diagonalFrechetDistance(a: { mean: ArrayLike<number>; variance: ArrayLike<number> }, b: { mean: ArrayLike<number>; variance: ArrayLike<number> }): number {
  if (a.mean.length !== b.mean.length || a.variance.length !== a.mean.length || b.variance.length !== b.mean.length)
    throw new ValueError(`Diagonal Fréchet distance between fits of ${a.mean.length} and ${b.mean.length} dimensions.`);
  let d = 0;
  for (let q = 0; q < a.mean.length; q++) d += (a.mean[q]! - b.mean[q]!) ** 2 + (Math.sqrt(Math.max(a.variance[q]!, 0)) - Math.sqrt(Math.max(b.variance[q]!, 0))) ** 2;
  return d;
}

/** Squared Euclidean distance between row i of a and row j of b. */
function dist2(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number, dim: number): number {
  let s = 0;
  const ai = i * dim;
  const bj = j * dim;
  for (let q = 0; q < dim; q++) {
    const d = a[ai + q]! - b[bj + q]!;
    s += d * d;
  }
  return s;
}

/** Squared distance from each row to its k-th nearest other row (the radius of its k-NN ball). */
export function kthNeighbourRadii2(rows: ArrayLike<number>, dim: number, k: number): Float64Array {
  const n = rows.length / dim;
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`k must be a positive integer, got ${k}.`);
  if (n <= k) throw new ValueError(`k-nearest-neighbour radii with k = ${k} need more than ${k} points, got ${n}.`);
  // The k smallest squared distances of each row, kept sorted (k is 3: insertion is cheapest).
  const best = new Float64Array(n * k).fill(Infinity);
  const insert = (i: number, d: number) => {
    const base = i * k;
    if (d >= best[base + k - 1]!) return;
    let p = k - 1;
    while (p > 0 && best[base + p - 1]! > d) {
      best[base + p] = best[base + p - 1]!;
      p--;
    }
    best[base + p] = d;
  };
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const d = dist2(rows, i, rows, j, dim);
      insert(i, d);
      insert(j, d);
    }
  return Float64Array.from({ length: n }, (_, i) => best[i * k + k - 1]!);
}

/** Fraction of the rows of `points` inside at least one ball (centre row of `centres`, squared radius). */
export function manifoldCoverage(points: ArrayLike<number>, centres: ArrayLike<number>, radii2: ArrayLike<number>, dim: number): number {
  const n = points.length / dim;
  const m = centres.length / dim;
  let inside = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++)
      if (dist2(points, i, centres, j, dim) <= radii2[j]!) {
        inside++;
        break;
      }
  return inside / n;
}

export interface PrecisionRecall {
  precision: number;
  recall: number;
}

/** Improved precision and recall (Kynkäänniemi et al. 2019) of `samples` against `reference` features. */
export function precisionRecall(reference: ArrayLike<number>, samples: ArrayLike<number>, dim: number, k = 3, referenceRadii2?: Float64Array): PrecisionRecall {
  const realRadii = referenceRadii2 ?? kthNeighbourRadii2(reference, dim, k);
  const fakeRadii = kthNeighbourRadii2(samples, dim, k);
  return { precision: manifoldCoverage(samples, reference, realRadii, dim), recall: manifoldCoverage(reference, samples, fakeRadii, dim) };
}

export interface ClassStatistics {
  /** Images whose most probable class is k. */
  histogram: number[];
  /** Entropy of the histogram divided by log K, in [0, 1]. */
  entropy: number;
  /** Mean over images of the largest class probability. */
  confidence: number;
}

export function classStatistics(probs: ArrayLike<number>, classes: number): ClassStatistics {
  const n = probs.length / classes;
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`classStatistics: ${probs.length} values is not a whole number of ${classes}-class rows.`);
  const histogram = new Array<number>(classes).fill(0);
  let confidence = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c]! > probs[i * classes + best]!) best = c;
    histogram[best]!++;
    confidence += probs[i * classes + best]!;
  }
  let h = 0;
  for (const count of histogram) if (count > 0) h -= (count / n) * Math.log(count / n);
  return { histogram, entropy: h / Math.log(classes), confidence: confidence / n };
}
