// float64 references for the samplers (src/diffusion/samplers.ts) with the exact Gaussian denoiser,
// written from SPEC.md sections 4 and 6: a pixel-domain simulation that uses the GPU's noise (the
// Philox reference), and the closed-form per-frequency variance recursion (every operator here is
// diagonal in the DCT basis, so each frequency evolves as a scalar linear recursion).
import { dct2, dTerm, spectralFilterRef, type Dims } from './blur.ts';
import { philoxNormals } from './rng.ts';

export type Kind = 'momentum' | 'probability-flow' | 'naive' | 'langevin' | 've-reverse';

export interface RefSetup {
  dims: Dims;
  /** data variance s[c, k, l] in the DCT basis */
  variance: Float64Array;
  blur: (t: number) => number; // sigmaB(t); identity corruption: () => 0 with identity = true
  sigma: (t: number) => number;
  identity?: boolean;
}

const dOf = (s: RefSetup, k: number, l: number, t: number) => (s.identity ? 1 : dTerm(k, l, s.dims[2], s.dims[3], s.blur(t)));

export function denoiseRef(s: RefSetup, x: Float64Array, t: number): Float64Array {
  const [, c, h, w] = s.dims;
  const sig = s.sigma(t);
  return spectralFilterRefByChannel(x, s.dims, (ch, k, l) => {
    const d = dOf(s, k, l, t);
    const v = s.variance[(ch * h + k) * w + l]!;
    return (d * v) / (d * d * v + sig * sig);
  }, c);
}

function spectralFilterRefByChannel(x: Float64Array, dims: Dims, m: (c: number, k: number, l: number) => number, c: number): Float64Array {
  const [b, , h, w] = dims;
  const out = new Float64Array(x.length);
  for (let s = 0; s < b * c; s++) {
    const X = dct2(x.subarray(s * h * w, (s + 1) * h * w), h, w);
    for (let k = 0; k < h; k++) for (let l = 0; l < w; l++) X[k * w + l]! *= m(s % c, k, l);
    out.set(dct2(X, h, w, true), s * h * w);
  }
  return out;
}

const corrupt = (s: RefSetup, x: Float64Array, t: number) => (s.identity ? x.slice() : spectralFilterRef(x, s.dims, (_, k, l) => dOf(s, k, l, t)));

/** Runs a sampler in float64 from x1 with the GPU's noise (seed; stream 0, step = step count). */
export function sampleRef(s: RefSetup, kind: Kind, n: number, x1: Float64Array, seed: number, opts: { perLevel?: number; eps?: number; clip?: [number, number] } = {}) {
  let x: Float64Array = x1.slice();
  let x0hat: Float64Array = new Float64Array(x.length);
  let step = 0;
  const perLevel = kind === 'langevin' ? (opts.perLevel ?? 1) : 1;
  const sigmaL = s.sigma(1 / n);
  for (let i = 0; i < n; i++) {
    const t = 1 - i / n;
    const tn = i + 1 < n ? 1 - (i + 1) / n : 0;
    const st = s.sigma(t);
    const sn = s.sigma(tn);
    for (let r = 0; r < perLevel; r++) {
      const z = philoxNormals(x.length, seed, step++, 0);
      x0hat = denoiseRef(s, x, t);
      if (opts.clip) {
        const [lo, hi] = opts.clip;
        x0hat = x0hat.map((v) => Math.min(hi, Math.max(lo, v)));
      }
      const yt = corrupt(s, x0hat, t);
      const yn = corrupt(s, x0hat, tn);
      const rho = (sn * sn) / (st * st);
      const next = new Float64Array(x.length);
      for (let j = 0; j < x.length; j++) {
        if (kind === 'momentum') next[j] = rho * x[j]! + yn[j]! - rho * yt[j]! + Math.sqrt(Math.max(st * st - sn * sn, 0)) * z[j]!;
        else if (kind === 'probability-flow') {
          const kappa = (1 + rho) / 2;
          next[j] = kappa * x[j]! + yn[j]! - kappa * yt[j]!;
        } else if (kind === 'naive') next[j] = yn[j]! + sn * z[j]!;
        else if (kind === 've-reverse') {
          // x + (st^2 - sn^2) * score + sqrt(st^2 - sn^2) z, score = (x0hat - x) / st^2
          const score = (x0hat[j]! - x[j]!) / (st * st);
          next[j] = x[j]! + (st * st - sn * sn) * score + Math.sqrt(st * st - sn * sn) * z[j]!;
        } else {
          const alpha = ((opts.eps ?? 2e-5) * st * st) / (sigmaL * sigmaL);
          const score = (yt[j]! - x[j]!) / (st * st);
          next[j] = x[j]! + alpha * score + Math.sqrt(2 * alpha) * z[j]!;
        }
      }
      x = next;
    }
  }
  return { x, x0hat };
}

/**
 * Exact variance of the final iterate at frequency (c, k, l) when x_1 is drawn from the true p_1:
 * Var_1 = d_1^2 s + sigma_1^2, then Var <- a_i^2 Var + q_i with the sampler's per-frequency gain a_i
 * and injected noise variance q_i. The true marginal at t = 0 is d_0^2 s + sigma_0^2.
 */
export function finalVarianceRef(s: RefSetup, kind: 'momentum' | 'probability-flow' | 'naive', n: number, ch: number, k: number, l: number) {
  const [, , h, w] = s.dims;
  const v = s.variance[(ch * h + k) * w + l]!;
  let variance = dOf(s, k, l, 1) ** 2 * v + s.sigma(1) ** 2;
  for (let i = 0; i < n; i++) {
    const t = 1 - i / n;
    const tn = i + 1 < n ? 1 - (i + 1) / n : 0;
    const st = s.sigma(t);
    const sn = s.sigma(tn);
    const dt = dOf(s, k, l, t);
    const dn = dOf(s, k, l, tn);
    const f = (dt * v) / (dt * dt * v + st * st);
    const rho = (sn * sn) / (st * st);
    let a: number;
    let q: number;
    if (kind === 'momentum') [a, q] = [rho + (dn - rho * dt) * f, Math.max(st * st - sn * sn, 0)];
    else if (kind === 'probability-flow') {
      const kappa = (1 + rho) / 2;
      [a, q] = [kappa + (dn - kappa * dt) * f, 0];
    } else [a, q] = [dn * f, sn * sn];
    variance = a * a * variance + q;
  }
  return { variance, target: dOf(s, k, l, 0) ** 2 * v + s.sigma(0) ** 2 };
}

/** Per-frequency variance over the batch of the DCT coefficients of images [B, C, H, W] (mean known to be 0). */
export function spectralVariance(x: ArrayLike<number>, [b, c, h, w]: Dims): Float64Array {
  const out = new Float64Array(c * h * w);
  for (let bi = 0; bi < b; bi++)
    for (let ch = 0; ch < c; ch++) {
      const off = (bi * c + ch) * h * w;
      const X = dct2(Float64Array.from({ length: h * w }, (_, i) => x[off + i]!), h, w);
      for (let i = 0; i < h * w; i++) out[ch * h * w + i]! += X[i]! ** 2 / b;
    }
  return out;
}
