// float64 reference for GroupNorm (+ optional SiLU), forward and backward, NCHW with hw = H * W.
import { sigmoid } from './elementwise.ts';

export interface GroupNormRefShape {
  n: number;
  c: number;
  hw: number;
  groups: number;
  eps: number;
  silu: boolean;
}

export interface GroupNormRefOut {
  y: Float64Array;
  /** [n, groups, 2]: (mean, rstd). */
  stats: Float64Array;
}

export function groupNormRef(x: Float64Array, gamma: Float64Array, beta: Float64Array, s: GroupNormRefShape): GroupNormRefOut {
  const { n, c, hw, groups, eps } = s;
  const cpg = c / groups;
  const len = cpg * hw;
  const y = new Float64Array(n * c * hw);
  const stats = new Float64Array(n * groups * 2);
  for (let b = 0; b < n; b++)
    for (let g = 0; g < groups; g++) {
      const base = (b * c + g * cpg) * hw;
      let sum = 0;
      for (let j = 0; j < len; j++) sum += x[base + j]!;
      const mean = sum / len;
      let sq = 0;
      for (let j = 0; j < len; j++) sq += (x[base + j]! - mean) ** 2;
      const rstd = 1 / Math.sqrt(sq / len + eps);
      stats[2 * (b * groups + g)] = mean;
      stats[2 * (b * groups + g) + 1] = rstd;
      for (let j = 0; j < len; j++) {
        const ch = g * cpg + Math.floor(j / hw);
        const z = gamma[ch]! * (x[base + j]! - mean) * rstd + beta[ch]!;
        y[base + j] = s.silu ? z * sigmoid(z) : z;
      }
    }
  return { y, stats };
}

export interface GroupNormGrads {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/** Gradients of groupNormRef(x, gamma, beta).y against the upstream gradient dy. */
export function groupNormBackwardRef(x: Float64Array, gamma: Float64Array, beta: Float64Array, dy: Float64Array, s: GroupNormRefShape): GroupNormGrads {
  const { n, c, hw, groups } = s;
  const cpg = c / groups;
  const len = cpg * hw;
  const { stats } = groupNormRef(x, gamma, beta, s);
  const dx = new Float64Array(n * c * hw);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  const dxhat = new Float64Array(len);
  const xhat = new Float64Array(len);
  for (let b = 0; b < n; b++)
    for (let g = 0; g < groups; g++) {
      const mean = stats[2 * (b * groups + g)]!;
      const rstd = stats[2 * (b * groups + g) + 1]!;
      const base = (b * c + g * cpg) * hw;
      let sumD = 0;
      let sumDX = 0;
      for (let j = 0; j < len; j++) {
        const ch = g * cpg + Math.floor(j / hw);
        xhat[j] = (x[base + j]! - mean) * rstd;
        const z = gamma[ch]! * xhat[j]! + beta[ch]!;
        const sg = sigmoid(z);
        const dz = s.silu ? dy[base + j]! * sg * (1 + z * (1 - sg)) : dy[base + j]!;
        dbeta[ch] += dz;
        dgamma[ch] += dz * xhat[j]!;
        dxhat[j] = dz * gamma[ch]!;
        sumD += dxhat[j]!;
        sumDX += dxhat[j]! * xhat[j]!;
      }
      for (let j = 0; j < len; j++) dx[base + j] = rstd * (dxhat[j]! - sumD / len - xhat[j]! * (sumDX / len));
    }
  return { dx, dgamma, dbeta };
}
