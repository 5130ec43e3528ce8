// Gaussian mixtures in D dimensions with everything in closed form, in float64 on the host:
//   p(x) = sum_k w_k N(x; mu_k, Sigma_k)
//   log p(x) = logsumexp_k (c_k - q_k(x) / 2),  q_k = (x - mu_k)^T P_k (x - mu_k),  P_k = Sigma_k^-1,
//              c_k = log w_k - (D/2) log(2 pi) - (1/2) log det Sigma_k
//   grad log p(x) = sum_k r_k(x) (-P_k (x - mu_k)),  r_k = exp(c_k - q_k / 2 - log p(x))  (responsibilities)
// The noise-smoothed density q_sigma = p * N(0, sigma^2 I) is again a mixture, with covariances
// Sigma_k + sigma^2 I (smoothed()); a Parzen-window estimate on samples is one with a component per
// sample (parzen()). These are the exact answers the lab's GPU kernels and objectives are tested
// against, and what its pictures draw. pack*() lay a mixture out for shaders/lab_mixture.wgsl.
import { ValueError } from '../gpu/errors.ts';
import type { HostRng } from '../base/host-rng.ts';

export interface MixtureComponent {
  weight: number;
  mean: readonly number[];
  /** Covariance, row-major D x D, symmetric positive definite. */
  cov: readonly number[];
}

/** Largest dimension the GPU kernels take (their per-point arrays are this long). */
export const MAX_GPU_DIM = 8;
/** Floats per component in pack() / packSampler(): one scalar, the mean, a D x D matrix. */
export const componentStride = (dim: number) => 1 + dim + dim * dim;

const LOG_2PI = Math.log(2 * Math.PI);

interface Prepared {
  w: number;
  mean: Float64Array;
  cov: Float64Array;
  chol: Float64Array;
  prec: Float64Array;
  logNorm: number;
}

export class GaussianMixture {
  readonly dim: number;
  private readonly comps: Prepared[];
  private scratch = new Float64Array(0);

  constructor(dim: number, components: readonly MixtureComponent[]) {
    if (!Number.isInteger(dim) || dim < 1) throw new ValueError(`Mixture dimension must be a positive integer, got ${dim}.`);
    if (components.length === 0) throw new ValueError('A mixture needs at least one component.');
    let total = 0;
    components.forEach((c, k) => {
      if (!(Number.isFinite(c.weight) && c.weight > 0)) throw new ValueError(`Mixture component ${k}: weight must be a positive number, got ${c.weight}.`);
      total += c.weight;
    });
    this.dim = dim;
    this.comps = components.map((c, k) => {
      if (c.mean.length !== dim || !c.mean.every(Number.isFinite))
        throw new ValueError(`Mixture component ${k}: mean must be ${dim} finite numbers, got [${c.mean.join(', ')}].`);
      if (c.cov.length !== dim * dim || !c.cov.every(Number.isFinite))
        throw new ValueError(`Mixture component ${k}: covariance must be ${dim}x${dim} finite numbers (row-major), got ${c.cov.length} values.`);
      const cov = Float64Array.from(c.cov);
      for (let i = 0; i < dim; i++)
        for (let j = 0; j < i; j++)
          if (Math.abs(cov[i * dim + j]! - cov[j * dim + i]!) > 1e-9 * (Math.abs(cov[i * dim + i]!) + Math.abs(cov[j * dim + j]!)))
            throw new ValueError(`Mixture component ${k}: covariance is not symmetric at (${i}, ${j}).`);
      const chol = cholesky(cov, dim, k);
      let logDet = 0;
      for (let i = 0; i < dim; i++) logDet += 2 * Math.log(chol[i * dim + i]!);
      const w = c.weight / total;
      return { w, mean: Float64Array.from(c.mean), cov, chol, prec: choleskyInverse(chol, dim), logNorm: Math.log(w) - 0.5 * dim * LOG_2PI - 0.5 * logDet };
    });
  }

  /** Isotropic components N(mean_k, std_k^2 I); equal weights unless given. */
  static isotropic(means: readonly (readonly number[])[], std: number | readonly number[], weights?: readonly number[]): GaussianMixture {
    const dim = means[0]?.length ?? 0;
    return new GaussianMixture(
      dim,
      means.map((mean, k) => {
        const s = typeof std === 'number' ? std : std[k]!;
        return { weight: weights?.[k] ?? 1, mean, cov: diagonal(dim, s * s) };
      }),
    );
  }

  /** The Parzen-window density on `samples` [n * dim]: (1/n) sum_i N(x; x_i, sigma^2 I). */
  static parzen(samples: ArrayLike<number>, dim: number, sigma: number): GaussianMixture {
    if (!(sigma > 0)) throw new ValueError(`Parzen window width must be positive, got ${sigma}.`);
    const n = Math.floor(samples.length / dim);
    const means = Array.from({ length: n }, (_, i) => Array.from({ length: dim }, (_, j) => samples[i * dim + j]!));
    return GaussianMixture.isotropic(means, sigma);
  }

  get size(): number {
    return this.comps.length;
  }

  /** The components with normalised weights. */
  get components(): MixtureComponent[] {
    return this.comps.map((c) => ({ weight: c.w, mean: [...c.mean], cov: [...c.cov] }));
  }

  /** q_sigma = p * N(0, sigma^2 I): every covariance inflated by sigma^2 I. sigma = 0 gives p. */
  smoothed(sigma: number): GaussianMixture {
    if (!(Number.isFinite(sigma) && sigma >= 0)) throw new ValueError(`Smoothing sigma must be a non-negative number, got ${sigma}.`);
    const s2 = sigma * sigma;
    return new GaussianMixture(
      this.dim,
      this.comps.map((c) => ({ weight: c.w, mean: [...c.mean], cov: [...c.cov].map((v, i) => (i % (this.dim + 1) === 0 ? v + s2 : v)) })),
    );
  }

  /** log p(x) for one point. */
  logDensity(x: ArrayLike<number>): number {
    return this.evaluate(x, null);
  }

  /** grad_x log p(x) for one point (into `out` when given). */
  score(x: ArrayLike<number>, out = new Float64Array(this.dim)): Float64Array {
    this.evaluate(x, out);
    return out;
  }

  /** log p and (when `grad` is given) its gradient, by a stable logsumexp over the components. */
  evaluate(x: ArrayLike<number>, grad: Float64Array | null): number {
    const d = this.dim;
    const k = this.comps.length;
    if (this.scratch.length < k * (d + 1) + d) this.scratch = new Float64Array(k * (d + 1) + d);
    // scratch: log terms [k], then P_k (x - mu_k) [k * d], then x - mu [d]
    const logs = this.scratch;
    const diff = this.scratch.subarray(k * (d + 1));
    let m = -Infinity;
    for (let c = 0; c < k; c++) {
      const comp = this.comps[c]!;
      for (let i = 0; i < d; i++) diff[i] = x[i]! - comp.mean[i]!;
      let q = 0;
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += comp.prec[i * d + j]! * diff[j]!;
        logs[k + c * d + i] = s;
        q += diff[i]! * s;
      }
      logs[c] = comp.logNorm - 0.5 * q;
      if (logs[c]! > m) m = logs[c]!;
    }
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(logs[c]! - m);
    const logp = m + Math.log(sum);
    if (grad) {
      grad.fill(0);
      for (let c = 0; c < k; c++) {
        const r = Math.exp(logs[c]! - logp);
        for (let i = 0; i < d; i++) grad[i] = grad[i]! - r * logs[k + c * d + i]!;
      }
    }
    return logp;
  }

  /** n independent draws [n * dim]: a component by its weight, then mu + L z. */
  sample(n: number, rng: HostRng): Float64Array {
    const d = this.dim;
    const out = new Float64Array(n * d);
    const z = new Float64Array(d);
    for (let s = 0; s < n; s++) {
      let u = rng.next();
      let k = 0;
      while (k < this.comps.length - 1 && u >= this.comps[k]!.w) u -= this.comps[k++]!.w;
      const c = this.comps[k]!;
      for (let i = 0; i < d; i++) z[i] = rng.normal();
      for (let i = 0; i < d; i++) {
        let v = c.mean[i]!;
        for (let j = 0; j <= i; j++) v += c.chol[i * d + j]! * z[j]!;
        out[s * d + i] = v;
      }
    }
    return out;
  }

  /** The exact mean E[x]. */
  mean(): Float64Array {
    const m = new Float64Array(this.dim);
    for (const c of this.comps) for (let i = 0; i < this.dim; i++) m[i] = m[i]! + c.w * c.mean[i]!;
    return m;
  }

  /** The exact covariance: sum_k w_k (Sigma_k + mu_k mu_k^T) - mu mu^T (row-major). */
  covariance(): Float64Array {
    const d = this.dim;
    const mu = this.mean();
    const out = new Float64Array(d * d);
    for (const c of this.comps)
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j]! + c.w * (c.cov[i * d + j]! + c.mean[i]! * c.mean[j]!);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j]! - mu[i]! * mu[j]!;
    return out;
  }

  /** An axis-aligned box holding all but a negligible mass: every mean +- `spread` standard deviations. */
  bounds(spread = 4): { lo: Float64Array; hi: Float64Array } {
    const d = this.dim;
    const lo = new Float64Array(d).fill(Infinity);
    const hi = new Float64Array(d).fill(-Infinity);
    for (const c of this.comps)
      for (let i = 0; i < d; i++) {
        const s = spread * Math.sqrt(c.cov[i * d + i]!);
        lo[i] = Math.min(lo[i]!, c.mean[i]! - s);
        hi[i] = Math.max(hi[i]!, c.mean[i]! + s);
      }
    return { lo, hi };
  }

  /** Smallest standard deviation along any principal axis of any component (sets quadrature steps). */
  minStd(): number {
    let m = Infinity;
    for (const c of this.comps) m = Math.min(m, smallestEigenvalue(c.cov, c.prec, this.dim));
    return Math.sqrt(m);
  }

  /**
   * The score layout of shaders/lab_mixture.wgsl: per component [c_k, mu_k (D), P_k (D x D)], so
   * the kernel evaluates logsumexp_k (c_k - q_k / 2) and sum_k r_k (-P_k (x - mu_k)).
   */
  pack(): Float32Array {
    const d = this.dim;
    const stride = componentStride(d);
    const out = new Float32Array(this.comps.length * stride);
    this.comps.forEach((c, k) => {
      out[k * stride] = c.logNorm;
      out.set(c.mean, k * stride + 1);
      out.set(c.prec, k * stride + 1 + d);
    });
    return out;
  }

  /**
   * The sampling layout of shaders/lab_mixture.wgsl: per component [cumulative weight up to and
   * including k, mu_k, L_k (lower Cholesky factor of Sigma_k)]; the last cumulative weight is 1.
   */
  packSampler(): Float32Array {
    return packSamplerLayout(
      this.dim,
      this.comps.map((c) => c.w),
      this.comps.map((c) => c.mean),
      this.comps.map((c) => c.chol),
    );
  }
}

/**
 * The sampling layout for the empirical distribution of `points` [n * dim] (equal weights, zero
 * covariance): drawing from it picks a training point uniformly.
 */
export function packEmpirical(points: ArrayLike<number>, dim: number): Float32Array {
  const n = Math.floor(points.length / dim);
  const means = Array.from({ length: n }, (_, i) => Float64Array.from({ length: dim }, (_, j) => points[i * dim + j]!));
  return packSamplerLayout(dim, new Array(n).fill(1 / n), means, new Array(n).fill(new Float64Array(dim * dim)));
}

function packSamplerLayout(dim: number, weights: number[], means: ArrayLike<number>[], chols: ArrayLike<number>[]): Float32Array {
  const stride = componentStride(dim);
  const out = new Float32Array(weights.length * stride);
  let cum = 0;
  weights.forEach((w, k) => {
    cum += w;
    out[k * stride] = k === weights.length - 1 ? 1 : cum;
    out.set(means[k]!, k * stride + 1);
    out.set(chols[k]!, k * stride + 1 + dim);
  });
  return out;
}

export function diagonal(dim: number, v: number): number[] {
  return Array.from({ length: dim * dim }, (_, i) => (i % (dim + 1) === 0 ? v : 0));
}

/** Lower Cholesky factor of an SPD matrix; a clear error when it is not positive definite. */
export function cholesky(a: Float64Array, d: number, component = 0): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (!(s > 0)) throw new ValueError(`Mixture component ${component}: covariance is not positive definite (pivot ${s} at ${i}).`, 'Give a symmetric positive definite covariance, or a positive std.');
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j]!;
    }
  return l;
}

/** (L L^T)^-1 from the lower factor L. */
function choleskyInverse(l: Float64Array, d: number): Float64Array {
  // inv(L) by forward substitution, then inv(L)^T inv(L).
  const li = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    li[i * d + i] = 1 / l[i * d + i]!;
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[i * d + k]! * li[k * d + j]!;
      li[i * d + j] = s / l[i * d + i]!;
    }
  }
  const p = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = Math.max(i, j); k < d; k++) s += li[k * d + i]! * li[k * d + j]!;
      p[i * d + j] = s;
    }
  return p;
}

/** The smallest eigenvalue of an SPD matrix: closed form in 2-D, else 1 / (power iteration on the inverse). */
function smallestEigenvalue(a: Float64Array, prec: Float64Array, d: number): number {
  if (d === 1) return a[0]!;
  if (d === 2) {
    const tr = a[0]! + a[3]!;
    const det = a[0]! * a[3]! - a[1]! * a[2]!;
    return tr / 2 - Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  }
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let lambda = 0;
  for (let it = 0; it < 200; it++) {
    const w = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i] = w[i]! + prec[i * d + j]! * v[j]!;
    const norm = Math.hypot(...w);
    lambda = norm;
    v = w.map((x) => x / norm);
  }
  return 1 / lambda;
}
