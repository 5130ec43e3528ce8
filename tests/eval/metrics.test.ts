// The metrics against their float64 references (other algorithms) and against exact answers.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../helpers/expect-close.ts';
import { randn, randu } from '../helpers/random.ts';
import { symmetricEigen, psdSqrt, matmulSquare } from '../../src/eval/linalg.ts';
import { classStatistics, diagonalFrechetDistance, frechetDistance, gaussianFit, kthNeighbourRadii2, precisionRecall, type GaussianFit } from '../../src/eval/metrics.ts';
import { classStatisticsRef, frechetRef, gaussianFitRef, precisionRecallRef } from '../reference/metrics.ts';
import { ValueError } from '../../src/gpu/errors.ts';

/** A random symmetric positive definite n x n matrix A A^T / n + shift I. */
function spd(n: number, seed: number, shift = 0.1): Float64Array {
  const a = randn(n * n, seed);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) s[i * n + j]! += (a[i * n + k]! * a[j * n + k]!) / n;
  for (let i = 0; i < n; i++) s[i * n + i]! += shift;
  return s;
}

const fit = (mean: Float64Array, cov: Float64Array): GaussianFit => ({ dim: mean.length, count: 100, mean, cov });

describe('symmetric eigendecomposition (Jacobi)', () => {
  test('A V = V diag(l) and V^T V = I, for a random matrix and one with repeated eigenvalues', () => {
    const n = 24;
    const repeated = new Float64Array(n * n);
    for (let i = 0; i < n; i++) repeated[i * n + i] = i < 12 ? 2 : 5; // then rotate it by a random orthogonal basis
    const q = symmetricEigen(spd(n, 3), n).vectors;
    const qt = Float64Array.from({ length: n * n }, (_, ij) => q[(ij % n) * n + Math.floor(ij / n)]!);
    for (const a of [spd(n, 1), matmulSquare(matmulSquare(q, repeated, n), qt, n)]) {
      const { values, vectors } = symmetricEigen(a, n);
      const av = matmulSquare(a, vectors, n);
      const vl = vectors.map((v, ij) => v * values[ij % n]!);
      expectClose(av, vl, { atol: 1e-12, rtol: 0, label: 'A V = V L' });
      const vt = Float64Array.from({ length: n * n }, (_, ij) => vectors[(ij % n) * n + Math.floor(ij / n)]!);
      const eye = Float64Array.from({ length: n * n }, (_, ij) => (ij % n === Math.floor(ij / n) ? 1 : 0));
      expectClose(matmulSquare(vt, vectors, n), eye, { atol: 1e-13, rtol: 0, label: 'orthonormal' });
    }
  });

  test('psdSqrt squares back to the matrix', () => {
    const n = 16;
    const a = spd(n, 5);
    const r = psdSqrt(a, n);
    expectClose(matmulSquare(r, r, n), a, { atol: 1e-12, rtol: 1e-12 });
  });

  test('a matrix that is not n x n is refused', () => {
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow(ValueError);
  });
});

describe('Fréchet distance', () => {
  test('gaussianFit matches the one-pass reference', () => {
    const rows = randn(300 * 7, 2).map((v, i) => v * (1 + (i % 7)) + (i % 7));
    const f = gaussianFit(rows, 7);
    const r = gaussianFitRef(rows, 7);
    expect(f.count).toBe(300);
    expectClose(f.mean, r.mean, { atol: 1e-12, rtol: 1e-12, label: 'mean' });
    expectClose(f.cov, r.cov, { atol: 1e-10, rtol: 1e-10, label: 'covariance' });
  });

  test('exact cases: identical fits 0; a mean shift |dmu|^2; commuting diagonal covariances sum (sqrt a - sqrt b)^2', () => {
    const n = 10;
    const s = spd(n, 7);
    const mu = randn(n, 8);
    expect(Math.abs(frechetDistance(fit(mu, s), fit(mu, s)))).toBeLessThan(1e-10);
    const shift = randn(n, 9);
    const shifted = mu.map((v, i) => v + shift[i]!);
    expect(frechetDistance(fit(mu, s), fit(shifted, s))).toBeCloseTo(shift.reduce((t, v) => t + v * v, 0), 9);
    const da = randu(n, 10, 0.1, 3);
    const db = randu(n, 11, 0.1, 3);
    const diag = (d: Float64Array) => Float64Array.from({ length: n * n }, (_, ij) => (ij % n === Math.floor(ij / n) ? d[ij % n]! : 0));
    const expected = da.reduce((t, a, i) => t + (Math.sqrt(a) - Math.sqrt(db[i]!)) ** 2, 0);
    expect(frechetDistance(fit(mu, diag(da)), fit(mu, diag(db)))).toBeCloseTo(expected, 10);
    expect(diagonalFrechetDistance({ mean: mu, variance: da }, { mean: shifted, variance: db })).toBeCloseTo(expected + shift.reduce((t, v) => t + v * v, 0), 10);
  });

  test('random full-rank fits match the Denman-Beavers reference; the distance is symmetric', () => {
    for (const [n, seed] of [[6, 1], [32, 2]] as const) {
      const a = fit(randn(n, seed), spd(n, seed + 10));
      const b = fit(randn(n, seed + 20), spd(n, seed + 30, 0.5));
      const ref = frechetRef(a, b, n);
      expect(frechetDistance(a, b)).toBeCloseTo(ref, 8);
      expect(Math.abs(frechetDistance(a, b) - frechetDistance(b, a))).toBeLessThan(1e-9 * ref);
    }
  });

  test('rank-deficient fits (fewer samples than dimensions) give a finite, non-negative distance', () => {
    const dim = 64;
    const a = gaussianFit(randn(20 * dim, 3), dim);
    const b = gaussianFit(randn(30 * dim, 4).map((v) => 1.5 * v), dim);
    const d = frechetDistance(a, b);
    expect(Number.isFinite(d)).toBe(true);
    expect(d).toBeGreaterThan(0);
    expect(Math.abs(frechetDistance(a, a))).toBeLessThan(1e-9);
  });
});

describe('precision and recall (k-NN manifolds, k = 3)', () => {
  test('match the brute-force reference on overlapping clouds', () => {
    const dim = 5;
    const real = randn(120 * dim, 1);
    const fake = randn(90 * dim, 2).map((v, i) => 1.3 * v + (i % dim === 0 ? 0.8 : 0));
    const got = precisionRecall(real, fake, dim, 3);
    const ref = precisionRecallRef(real, fake, dim, 3);
    expect(got.precision).toBe(ref.precision);
    expect(got.recall).toBe(ref.recall);
    expect(got.precision).toBeGreaterThan(0.3);
    expect(got.precision).toBeLessThan(1);
  });

  test('the same set covers itself; a far-away set covers nothing; a collapsed set has high precision, low recall', () => {
    const dim = 4;
    const real = randn(100 * dim, 3);
    expect(precisionRecall(real, real, dim)).toEqual({ precision: 1, recall: 1 });
    expect(precisionRecall(real, real.map((v) => v + 100), dim)).toEqual({ precision: 0, recall: 0 });
    const collapsed = randn(100 * dim, 4).map((v) => 0.05 * v);
    const pr = precisionRecall(real, collapsed, dim);
    expect(pr.precision).toBe(1);
    expect(pr.recall).toBeLessThan(0.2);
  });

  test('k-th neighbour radii: points on a line', () => {
    const pts = Float64Array.from([0, 1, 3, 6, 10]);
    expect(Array.from(kthNeighbourRadii2(pts, 1, 1))).toEqual([1, 1, 4, 9, 16]);
    expect(Array.from(kthNeighbourRadii2(pts, 1, 3))).toEqual([36, 25, 9, 25, 81]);
    expect(() => kthNeighbourRadii2(pts, 1, 5)).toThrow(/more than 5 points/);
  });
});

describe('class statistics', () => {
  test('match the reference; uniform classes give entropy 1, one class 0', () => {
    const k = 10;
    const probs = randu(500 * k, 5);
    for (let i = 0; i < 500; i++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += probs[i * k + c]!;
      for (let c = 0; c < k; c++) probs[i * k + c]! /= s;
    }
    const got = classStatistics(probs, k);
    const ref = classStatisticsRef(probs, k);
    expect(got.histogram).toEqual(ref.histogram);
    expect(got.entropy).toBeCloseTo(ref.entropy, 12);
    expect(got.confidence).toBeCloseTo(ref.confidence, 12);
    const onehot = (c: number) => Array.from({ length: k }, (_, j) => (j === c ? 1 : 0));
    expect(classStatistics(Array.from({ length: 50 }, (_, i) => onehot(i % 10)).flat(), k).entropy).toBeCloseTo(1, 12);
    const one = classStatistics(Array.from({ length: 50 }, () => onehot(3)).flat(), k);
    expect(one.entropy).toBe(0);
    expect(one.histogram[3]).toBe(50);
    expect(one.confidence).toBe(1);
  });
});
