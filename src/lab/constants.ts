// The constants in the score-matching equivalences, from the density alone (float64, host):
//   J_ESM(p)(theta)   = J_ISM(theta) + F(p) / 2                          (Hyvarinen 2005)
//   J_ESM(q_s)(theta) = J_DSM,s(theta) + F(q_s) / 2 - D / (2 s^2)         (Vincent 2011)
// where F(q) = E_q ||grad log q||^2 is q's Fisher information (trace form). Expanding both squares,
// the cross terms E[s_theta . grad log q] agree (by parts for ISM; by E[grad log q(x~|x) | x~] =
// grad log q(x~) for DSM), so what is left is the target terms: F(q)/2 for ESM, 0 for ISM (it has no
// target), E||z/s||^2 / 2 = D / (2 s^2) for DSM.
// In 2-D F is computed by the midpoint rule on a grid whose step is a third of the smallest component
// std (for these smooth, Gaussian-tailed integrands the rule's error is far below float64 rounding);
// in other dimensions by Monte Carlo, with its standard error.
import { HostRng } from '../base/host-rng.ts';
import type { GaussianMixture } from './mixture.ts';

export interface FisherEstimate {
  value: number;
  /** Standard error (0 for quadrature). */
  stderr: number;
  method: 'quadrature' | 'monte-carlo';
}

/** F(q) = E_q ||grad log q||^2. */
export function fisherInformation(q: GaussianMixture, opts: { samples?: number; seed?: number; maxGrid?: number } = {}): FisherEstimate {
  if (q.dim === 2) return fisherQuadrature2d(q, opts.maxGrid ?? 1200);
  const n = opts.samples ?? 200_000;
  const x = q.sample(n, new HostRng(opts.seed ?? 1));
  const g = new Float64Array(q.dim);
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    q.score(x.subarray(i * q.dim, (i + 1) * q.dim), g);
    let v = 0;
    for (const c of g) v += c * c;
    s += v;
    s2 += v * v;
  }
  const mean = s / n;
  return { value: mean, stderr: Math.sqrt(Math.max(0, s2 / n - mean * mean) / n), method: 'monte-carlo' };
}

function fisherQuadrature2d(q: GaussianMixture, maxGrid: number): FisherEstimate {
  const { lo, hi } = q.bounds(8);
  const h0 = q.minStd() / 3;
  const nx = Math.min(maxGrid, Math.ceil((hi[0]! - lo[0]!) / h0));
  const ny = Math.min(maxGrid, Math.ceil((hi[1]! - lo[1]!) / h0));
  const hx = (hi[0]! - lo[0]!) / nx;
  const hy = (hi[1]! - lo[1]!) / ny;
  const x = new Float64Array(2);
  const g = new Float64Array(2);
  let sum = 0;
  for (let i = 0; i < nx; i++) {
    x[0] = lo[0]! + (i + 0.5) * hx;
    for (let j = 0; j < ny; j++) {
      x[1] = lo[1]! + (j + 0.5) * hy;
      const logp = q.evaluate(x, g);
      sum += Math.exp(logp) * (g[0]! * g[0]! + g[1]! * g[1]!);
    }
  }
  return { value: sum * hx * hy, stderr: 0, method: 'quadrature' };
}

/** J_ESM(p) - J_ISM = F(p) / 2. */
export function ismConstant(p: GaussianMixture, fisher = fisherInformation(p)): number {
  return 0.5 * fisher.value;
}

/** J_ESM(q_sigma) - J_DSM,sigma = F(q_sigma) / 2 - D / (2 sigma^2). */
export function dsmConstant(p: GaussianMixture, sigma: number, fisher = fisherInformation(p.smoothed(sigma))): number {
  return 0.5 * fisher.value - p.dim / (2 * sigma * sigma);
}
